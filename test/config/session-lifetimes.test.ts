// sessions.idleSeconds and sessions.absoluteSeconds: their defaults, the environment, and one clear
// line for a lifetime that cannot be used.
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

function configErrorFor(environ: Record<string, string>): ConfigError {
  try {
    loadConfig(environ);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail(`expected a ConfigError for ${JSON.stringify(environ)}`);
}

describe('configuration: session lifetimes', () => {
  it('defaults to 30 minutes idle and 12 hours absolute (NIST SP 800-63B, AAL2)', () => {
    expect(loadConfig({}).sessions).to.deep.equal({ idleSeconds: 1800, absoluteSeconds: 43_200 });
  });

  it('reads SESSION_IDLE_SECONDS and SESSION_ABSOLUTE_SECONDS', () => {
    const config = loadConfig({ SESSION_IDLE_SECONDS: '600', SESSION_ABSOLUTE_SECONDS: '28800' });
    expect(config.sessions).to.deep.equal({ idleSeconds: 600, absoluteSeconds: 28_800 });
  });

  it('refuses an idle lifetime longer than the absolute one, naming the setting', () => {
    const error = configErrorFor({ SESSION_IDLE_SECONDS: '7200', SESSION_ABSOLUTE_SECONDS: '3600' });
    expect(error.message).to.equal(
      'SESSION_IDLE_SECONDS: expected at most SESSION_ABSOLUTE_SECONDS (a session cannot stay idle longer than it may live)',
    );
  });

  it('refuses a lifetime that is not a whole number of seconds from 1 to 30 days', () => {
    for (const [name, value] of [
      ['SESSION_IDLE_SECONDS', 'half an hour'],
      ['SESSION_IDLE_SECONDS', '0'],
      ['SESSION_ABSOLUTE_SECONDS', '1.5'],
      ['SESSION_ABSOLUTE_SECONDS', String(31 * 86400)],
    ] as const) {
      const error = configErrorFor({ [name]: value });
      expect(error.setting, `${name}=${value}`).to.equal(name);
      expect(error.message).to.match(/expected a whole number of seconds from 1 to 2592000$/);
    }
  });
});
