// A browser without a browser, for end-to-end tests of the sign-in pages: fetch with a cookie jar,
// redirects followed by hand (only on the provider's own origin, since nothing listens at the
// clients' redirect URIs), and plain HTML forms read and submitted as a person would.

interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
  /** Milliseconds since the epoch; undefined for a session cookie. */
  readonly expires: number | undefined;
}

/** One response as the browser saw it, body read. */
export interface Page {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** The Location header of a redirect, resolved against `url`. */
  readonly location: string | undefined;
}

/** A `<form>` of a page: where it goes and the values it would submit (hidden and prefilled inputs). */
export interface PageForm {
  readonly id: string | undefined;
  readonly method: string;
  /** Absolute. */
  readonly action: string;
  readonly fields: Record<string, string>;
}

/** What a sign-in journey passed through. */
export type Step = 'login' | 'otp' | 'consent' | 'unmet';

export class SignInFailed extends Error {
  override readonly name = 'SignInFailed';
  readonly page: Page;
  constructor(message: string, page: Page) {
    super(`${message} (HTTP ${page.status} at ${page.url})`);
    this.page = page;
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", '#x27': "'" };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, entity: string) => {
    const lower = entity.toLowerCase();
    if (ENTITIES[lower] !== undefined) return ENTITIES[lower];
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(Number.parseInt(lower.slice(1), 10));
    return whole;
  });
}

function attributes(tag: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const match of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g)) {
    found[match[1]!.toLowerCase()] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return found;
}

/** The forms of an HTML page (inputs with a name and a value; buttons are left to the caller). */
export function formsOf(page: Page): PageForm[] {
  const forms: PageForm[] = [];
  for (const match of page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(match[1]!);
    const fields: Record<string, string> = {};
    for (const input of match[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const inputAttrs = attributes(input[1]!);
      if (inputAttrs.name !== undefined) fields[inputAttrs.name] = inputAttrs.value ?? '';
    }
    forms.push({
      id: attrs.id,
      method: (attrs.method ?? 'get').toLowerCase(),
      action: new URL(attrs.action ?? page.url, page.url).href,
      fields,
    });
  }
  return forms;
}

/** The text of every element with role="alert", tags removed, entities decoded. */
export function alertsOf(page: Page): string[] {
  const alerts: string[] = [];
  for (const match of page.body.matchAll(/<([a-z][a-z0-9]*)\b[^>]*\brole="alert"[^>]*>([\s\S]*?)<\/\1>/gi)) {
    alerts.push(decodeEntities(match[2]!.replace(/<[^>]*>/g, '')).trim());
  }
  return alerts;
}

/** Which sign-in page this is, by the form it carries. */
export function stepOf(page: Page): Step | undefined {
  const actions = formsOf(page).map((form) => new URL(form.action).pathname);
  if (actions.some((action) => /^\/interaction\/[^/]+\/login$/.test(action))) return 'login';
  if (actions.some((action) => /^\/interaction\/[^/]+\/otp$/.test(action))) return 'otp';
  if (actions.some((action) => /^\/interaction\/[^/]+\/consent$/.test(action))) return 'consent';
  if (actions.some((action) => /^\/interaction\/[^/]+\/unmet$/.test(action))) return 'unmet';
  return undefined;
}

export class Browser {
  /** Cookies per host (host:port), each keyed by name and path. */
  readonly #jar = new Map<string, Map<string, StoredCookie>>();
  /** The origin whose redirects are followed; redirects elsewhere end a navigation. */
  readonly #home: string;
  /** The sign-in pages the last signIn() showed, in order, and the pages themselves. */
  lastSteps: Step[] = [];
  lastPages: Page[] = [];

  constructor(home: string) {
    this.#home = new URL(home).origin;
  }

  /** The cookies this browser would send to a URL. */
  cookiesFor(url: string): Map<string, string> {
    const target = new URL(url);
    const now = Date.now();
    const sent = new Map<string, string>();
    const cookies = [...(this.#jar.get(target.host)?.values() ?? [])]
      .filter((cookie) => cookie.expires === undefined || cookie.expires > now)
      .filter((cookie) => target.pathname === cookie.path || target.pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`))
      // More specific paths first, as browsers send them.
      .sort((a, b) => b.path.length - a.path.length);
    for (const cookie of cookies) if (!sent.has(cookie.name)) sent.set(cookie.name, cookie.value);
    return sent;
  }

  #store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...options] = line.split(';');
      const separator = pair.indexOf('=');
      if (separator < 0) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expires: number | undefined;
      for (const option of options) {
        const [key = '', ...rest] = option.split('=');
        const optionValue = rest.join('=').trim();
        switch (key.trim().toLowerCase()) {
          case 'path':
            if (optionValue.startsWith('/')) path = optionValue;
            break;
          case 'expires':
            expires ??= Date.parse(optionValue);
            break;
          case 'max-age':
            expires = Date.now() + Number(optionValue) * 1000;
            break;
        }
      }
      const jar = this.#jar.get(url.host) ?? new Map<string, StoredCookie>();
      this.#jar.set(url.host, jar);
      const key = `${name};${path}`;
      if (expires !== undefined && expires <= Date.now()) jar.delete(key);
      else jar.set(key, { name, value, path, expires });
    }
  }

  /** One request, no redirect followed. */
  async fetch(url: string | URL, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Page> {
    const target = new URL(url);
    const cookie = [...this.cookiesFor(target.href)].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(target, {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: { ...(cookie && { cookie }), ...init.headers },
      ...(init.body !== undefined && { body: init.body }),
    });
    this.#store(target, response.headers);
    const location = response.headers.get('location');
    return {
      url: target.href,
      status: response.status,
      headers: response.headers,
      body: await response.text(),
      location: location === null ? undefined : new URL(location, target).href,
    };
  }

  /** Follows redirects while they stay on the provider's origin; the last response is returned. */
  async #navigate(first: Page): Promise<Page> {
    let page = first;
    for (let hops = 0; page.location !== undefined && page.status >= 300 && page.status < 400; hops += 1) {
      if (new URL(page.location).origin !== this.#home) return page;
      if (hops >= 20) throw new SignInFailed('too many redirects', page);
      page = await this.fetch(page.location);
    }
    return page;
  }

  get(url: string | URL): Promise<Page> {
    return this.fetch(url).then((page) => this.#navigate(page));
  }

  /** Submits fields as application/x-www-form-urlencoded, then follows redirects. */
  async postForm(url: string | URL, fields: Record<string, string> | URLSearchParams): Promise<Page> {
    const body = (fields instanceof URLSearchParams ? fields : new URLSearchParams(fields)).toString();
    const page = await this.fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return this.#navigate(page);
  }

  /** Submits a form of a page as its submit button would, with extra fields (e.g. the credentials). */
  submit(form: PageForm, extra: Record<string, string> = {}): Promise<Page> {
    return this.postForm(form.action, { ...form.fields, ...extra });
  }

  /**
   * Walks an authorization request through the sign-in pages: the login page gets the credentials,
   * the consent page is agreed to (or refused with `consent: false`), the page saying the account
   * cannot reach the level asked for is passed with its one button. Returns the URL the provider
   * finally redirects to (the client's redirect URI with a code or an error). `lastSteps` tells which
   * pages were shown.
   */
  async signIn(
    authorizationUrl: string | URL,
    username: string,
    password: string,
    options: { consent?: boolean; otp?: () => Promise<string> } = {},
  ): Promise<URL> {
    this.lastSteps = [];
    this.lastPages = [];
    let page = await this.get(authorizationUrl);
    for (let steps = 0; steps < 6; steps += 1) {
      if (page.location !== undefined && page.status >= 300 && page.status < 400) return new URL(page.location);
      const step = stepOf(page);
      if (step === undefined || page.status !== 200) throw new SignInFailed('the provider showed no sign-in page to continue with', page);
      if (step === 'login' && this.lastSteps.includes('login')) throw new SignInFailed('the login page came back', page);
      this.lastSteps.push(step);
      this.lastPages.push(page);
      const forms = formsOf(page);
      if (step === 'login') {
        const login = forms.find((form) => form.action.endsWith('/login'))!;
        page = await this.submit(login, { username, password });
        if (stepOf(page) === 'login') throw new SignInFailed(`sign-in refused: ${alertsOf(page).join(' ')}`, page);
      } else if (step === 'otp') {
        if (!options.otp) throw new SignInFailed('a second factor was asked and the test has none', page);
        const otp = forms.find((form) => form.action.endsWith('/otp'))!;
        page = await this.submit(otp, { otp: await options.otp() });
        if (stepOf(page) === 'otp') throw new SignInFailed(`second factor refused: ${alertsOf(page).join(' ')}`, page);
      } else if (step === 'unmet') {
        // The page that says why the account falls short; its one button returns to the service.
        page = await this.submit(forms.find((form) => form.action.endsWith('/unmet'))!);
      } else {
        const target = forms.find((form) => form.action.endsWith(options.consent === false ? '/abort' : '/consent'))!;
        page = await this.submit(target);
      }
    }
    throw new SignInFailed('the sign-in did not finish', page);
  }
}
