// Acting for others from a relying party's side (docs/representation.md): an authorization request with
// authorization_details for urn:vn:eid:representation through openid-client, walked through the sign-in
// pages, the consent and the chooser by the browserless browser.
import { expect } from 'chai';
import * as client from 'openid-client';
import { alertsOf, formsOf, stepOf, type Browser, type Page } from './browserless.ts';

export const REPRESENTATION_TYPE = 'urn:vn:eid:representation';
export const AN = { id: '001099012345', password: 'An#Demo2026' };
export const KHOA = { id: '048203000777', password: 'Khoa#Demo2026' };
export const BICH = { id: '079185000123', password: 'Bich#Demo2026' };
export const ORGANISATION = { code: '0109999999', name: 'Công ty TNHH Dịch vụ Số An Phát' };
export const CHAU = { id: '001321000888', name: 'Nguyễn Minh Châu', birthdate: '2021-06-01' };

export interface RepresentationAsk {
  readonly party_kinds: readonly string[];
  readonly roles?: readonly string[];
}

export interface RpClient {
  readonly id: string;
  readonly secret: string;
  readonly redirectUri: string;
}

export const DEMO_PORTAL: RpClient = { id: 'demo-portal', secret: 'demo-portal-secret', redirectUri: 'http://localhost:4000/callback' };
export const DEMO_TAX: RpClient = { id: 'demo-tax', secret: 'demo-tax-secret', redirectUri: 'http://127.0.0.1:4001/callback' };

export interface Started {
  readonly url: URL;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
}

/** A relying party asking to act for someone. */
export class RepresentingParty {
  readonly #issuer: string;
  readonly rp: RpClient;
  #config: Promise<client.Configuration> | undefined;

  constructor(issuer: string, rp: RpClient = DEMO_PORTAL) {
    this.#issuer = issuer;
    this.rp = rp;
  }

  config(): Promise<client.Configuration> {
    this.#config ??= client.discovery(new URL(this.#issuer), this.rp.id, undefined, client.ClientSecretBasic(this.rp.secret), {
      execute: [client.allowInsecureRequests],
    });
    return this.#config;
  }

  async start(ask: RepresentationAsk | undefined, options: { par?: boolean; scope?: string; prompt?: string; resource?: string; acrValues?: string } = {}): Promise<Started> {
    const config = await this.config();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const parameters: Record<string, string> = {
      redirect_uri: this.rp.redirectUri,
      scope: options.scope ?? 'openid profile offline_access',
      prompt: options.prompt ?? 'consent',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...(ask && { authorization_details: JSON.stringify([{ type: REPRESENTATION_TYPE, ...ask }]) }),
      ...(options.resource && { resource: options.resource }),
      ...(options.acrValues && { acr_values: options.acrValues }),
    };
    const url = options.par ? await client.buildAuthorizationUrlWithPAR(config, parameters) : client.buildAuthorizationUrl(config, parameters);
    return { url, verifier, state, nonce };
  }

  async redeem(started: Started, callback: URL) {
    return client.authorizationCodeGrant(await this.config(), callback, {
      pkceCodeVerifier: started.verifier,
      expectedState: started.state,
      expectedNonce: started.nonce,
      idTokenExpected: true,
    });
  }

  async refresh(refreshToken: string, parameters?: Record<string, string>) {
    return client.refreshTokenGrant(await this.config(), refreshToken, parameters);
  }

  async userinfo(accessToken: string, sub: string) {
    return client.fetchUserInfo(await this.config(), accessToken, sub);
  }

  async introspect(token: string) {
    return client.tokenIntrospection(await this.config(), token);
  }
}

/** What a walk through the sign-in pages met. */
export interface Walk {
  /** The client's redirect URI with a code or an error. */
  readonly callback: URL;
  /** The chooser page (or the "no one" page) as shown. */
  readonly chooser: Page | undefined;
}

/**
 * Signs in with the password, agrees to consent, and on the chooser picks `party` (a form value such as
 * `organisation:0109999999`), or presses the "no one" page's button. A chooser refusing the choice
 * throws with its alert.
 */
export async function walk(browser: Browser, url: URL, who: { id: string; password: string; otp?: () => Promise<string> }, party?: string): Promise<Walk> {
  let page = await browser.get(url);
  let chooser: Page | undefined;
  for (let steps = 0; steps < 8; steps += 1) {
    if (page.location !== undefined && page.status >= 300 && page.status < 400) return { callback: new URL(page.location), chooser };
    const forms = formsOf(page);
    const step = stepOf(page);
    if (step === 'login') {
      page = await browser.submit(forms.find((form) => form.action.endsWith('/login'))!, { username: who.id, password: who.password });
      if (stepOf(page) === 'login') throw new Error(`sign-in refused: ${alertsOf(page).join(' ')}`);
    } else if (step === 'otp') {
      if (!who.otp) throw new Error('a second factor was asked and the test has none');
      page = await browser.submit(forms.find((form) => form.action.endsWith('/otp'))!, { otp: await who.otp() });
      if (stepOf(page) === 'otp') throw new Error(`second factor refused: ${alertsOf(page).join(' ')}`);
    } else if (step === 'consent') {
      page = await browser.submit(forms.find((form) => form.action.endsWith('/consent'))!);
    } else if (forms.some((form) => form.action.endsWith('/representation/none'))) {
      chooser = page;
      page = await browser.submit(forms.find((form) => form.action.endsWith('/representation/none'))!);
    } else if (forms.some((form) => form.action.endsWith('/representation'))) {
      chooser = page;
      expect(party, 'the test chose a party').to.be.a('string');
      const form = forms.find((candidate) => candidate.action.endsWith('/representation'))!;
      const answer = await browser.submit(form, { party: party! });
      if (answer.status !== 303 && answer.location === undefined) {
        throw Object.assign(new Error(`the chooser refused: ${alertsOf(answer).join(' ')}`), { page: answer });
      }
      page = answer;
    } else {
      throw Object.assign(new Error(`no sign-in page to continue with (HTTP ${page.status} at ${page.url})`), { page });
    }
  }
  throw new Error('the sign-in did not finish');
}

/** The chooser's options: value and label text. */
export function partyOptions(page: Page): { value: string; label: string }[] {
  return [...page.body.matchAll(/<label><input type="radio" name="party" value="([^"]+)"[^>]*>\s*<span>([^<]*)<\/span><\/label>/g)].map((match) => ({
    value: match[1]!,
    label: match[2]!.replace(/&amp;/g, '&'),
  }));
}
