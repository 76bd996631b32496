import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConfigError,
  closestSettingKey,
  defaultConfig,
  getSetting,
  listSettings,
  parseConfig,
  parseListenAddress,
  SETTINGS,
} from '../../src/config/schema.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('config schema', () => {
  it('gives every documented default', () => {
    assert.deepEqual(defaultConfig(), {
      server: {
        listen: '127.0.0.1:8443',
        body_limit_bytes: 65536,
        plain_http: false,
        public_http_listen: '',
        crypto_threads: 'auto',
      },
      store: { url: 'sqlite:certmaster.db', writer_thread: false },
      ca: {
        leaf_validity_days: 90,
        leaf_validity_minutes: 0,
        public_url: '',
        crl_next_update_hours: 24,
        ocsp_next_update_minutes: 60,
      },
      ra: {
        autosign: 'off',
        reserved_names: '',
        anonymous_requests: true,
        allow_wildcards: false,
        max_names: 20,
        min_rsa_bits: 2048,
        allow_duplicate_certificates: false,
        pending_retry_after_seconds: 10,
        renew_window: 0.66,
        renew_after_expiry: 'none',
        renew_same_key: false,
        revoke_on_renew: false,
      },
      triggers: { dir: 'triggers', timeout_seconds: 10 },
      auth: {
        realm: 'certmaster',
        basic: true,
        digest: true,
        digest_algorithms: 'SHA-256',
        bearer: true,
        access_token_ttl_seconds: 900,
        refresh_token_ttl_days: 30,
        minted_token_max_days: 30,
        nonce_lifetime_seconds: 300,
        argon2_memory_kib: 19456,
        argon2_iterations: 2,
        argon2_parallelism: 1,
        throttle_free_failures: 5,
        throttle_max_delay_seconds: 900,
        throttle_tarpit_ms: 1000,
      },
      metrics: { access: 'loopback' },
      audit: { min_free_disk: '1GiB', summarize_floods: true },
      webhooks: {
        urls: '',
        secret_file: 'secrets/webhook.key',
        thresholds_days: '30,7,1',
        check_interval_seconds: 3600,
        max_attempts: 8,
      },
      est: { labels: '' },
      acme: {
        http01_port: 80,
        resolver: '',
        require_eab: false,
        nonce_lifetime_seconds: 3600,
        max_nonces: 100_000,
        validation_timeout_seconds: 10,
        orders_per_account_per_hour: 300,
        certificates_per_name_per_week: 50,
      },
    });
  });

  it('documents every setting with its default, a description and what is allowed', () => {
    assert.equal(SETTINGS.length, 58);
    const defaults = defaultConfig();
    for (const s of SETTINGS) {
      assert.ok(s.description.length > 10, s.key);
      assert.ok(s.allowed.length > 3, s.key);
      assert.equal(getSetting(defaults, s.key), s.default, s.key);
    }
    const autosign = SETTINGS.find((s) => s.key === 'ra.autosign');
    assert.equal(autosign?.allowed, 'off, all, or comma-separated name patterns such as *.web.example.com');
    assert.equal(autosign?.type, 'string');
    assert.equal(SETTINGS.find((s) => s.key === 'ra.max_names')?.type, 'integer');
    assert.equal(SETTINGS.find((s) => s.key === 'ra.allow_wildcards')?.type, 'boolean');
    assert.equal(SETTINGS.find((s) => s.key === 'ra.renew_window')?.type, 'number');
  });

  it('fills in missing keys and sections', () => {
    const config = parseConfig({ ra: { autosign: '*.web.example.com' } });
    assert.equal(config.ra.autosign, '*.web.example.com');
    assert.equal(config.ra.max_names, 20);
    assert.equal(config.server.listen, '127.0.0.1:8443');
  });

  it('names key, value, file and the rule in one message', () => {
    const err = configError(() => parseConfig({ ra: { max_names: 0 } }, '/x/certmaster.toml'));
    assert.equal(err.message, 'ra.max_names = 0 in /x/certmaster.toml: must be between 1 and 100');
    assert.equal(err.key, 'ra.max_names');
    assert.equal(err.value, 0);
    assert.equal(err.file, '/x/certmaster.toml');
    assert.equal(err.allowed, 'a whole number from 1 to 100');
    assert.equal(err.code, 'invalid_value');
  });

  const badValues: Array<[Record<string, unknown>, string]> = [
    [{ ra: { max_names: 2.5 } }, 'ra.max_names = 2.5: must be a whole number between 1 and 100'],
    [{ ra: { max_names: '20' } }, 'ra.max_names = "20": must be a whole number between 1 and 100'],
    [{ ra: { anonymous_requests: 'yes' } }, 'ra.anonymous_requests = "yes": must be true or false'],
    [{ ra: { min_rsa_bits: 1024 } }, 'ra.min_rsa_bits = 1024: must be between 2048 and 8192'],
    [
      { server: { body_limit_bytes: 100 } },
      'server.body_limit_bytes = 100: must be between 1024 and 10485760',
    ],
    [{ ca: { leaf_validity_days: 3651 } }, 'ca.leaf_validity_days = 3651: must be between 1 and 3650'],
    [{ triggers: { timeout_seconds: 0 } }, 'triggers.timeout_seconds = 0: must be between 1 and 600'],
    [
      { ra: { pending_retry_after_seconds: 3601 } },
      'ra.pending_retry_after_seconds = 3601: must be between 1 and 3600',
    ],
    [
      { server: { listen: '127.0.0.1' } },
      'server.listen = "127.0.0.1": expected HOST:PORT, with an IPv6 address in brackets as in [::1]:8443',
    ],
    [
      { server: { listen: '127.0.0.1:70000' } },
      'server.listen = "127.0.0.1:70000": port 70000 is outside 1..65535',
    ],
    [
      { server: { listen: '::1:8443' } },
      'server.listen = "::1:8443": expected HOST:PORT, with an IPv6 address in brackets as in [::1]:8443',
    ],
    [
      { store: { url: 'mysql://db/x' } },
      'store.url = "mysql://db/x": must start with sqlite: or postgres:// (or postgresql://)',
    ],
    [
      { store: { url: '/var/lib/certmaster/db.sqlite' } },
      'store.url = "/var/lib/certmaster/db.sqlite": must start with sqlite: or postgres:// (or postgresql://)',
    ],
    [
      { ra: { autosign: 'web.*.example.com' } },
      'ra.autosign = "web.*.example.com": "web.*.example.com" has "*" where it is not allowed; a wildcard may only be the whole leftmost label, as in "*.example.com"',
    ],
    [{ ra: 5 }, 'ra: must be a table of settings ([ra])'],
    [{ metrics: { access: 'public' } }, 'metrics.access = "public": must be one of loopback, scope, open'],
    [
      { webhooks: { urls: 'https://hooks.example.com/a, ftp://x/' } },
      'webhooks.urls = "https://hooks.example.com/a, ftp://x/": "ftp://x/" must start with https:// or http://',
    ],
    [
      { webhooks: { thresholds_days: '30,7,7' } },
      'webhooks.thresholds_days = "30,7,7": names a threshold twice',
    ],
    [
      { webhooks: { thresholds_days: '30,0' } },
      'webhooks.thresholds_days = "30,0": each threshold must be from 1 to 3650 days',
    ],
    [{ webhooks: { max_attempts: 21 } }, 'webhooks.max_attempts = 21: must be between 1 and 20'],
  ];
  for (const [input, message] of badValues) {
    it(`refuses ${JSON.stringify(input)}`, () => {
      assert.equal(configError(() => parseConfig(input)).message, message);
    });
  }

  it('never shows a database password in a message', () => {
    const err = configError(() => parseConfig({ store: { url: 'mysql://admin:s3cret@db/x' } }));
    assert.doesNotMatch(err.message, /s3cret/);
    assert.doesNotMatch(String(err.value), /s3cret/);
  });

  it('accepts the listen, store and autosign forms the documentation promises', () => {
    const config = parseConfig({
      server: { listen: '[::1]:8443' },
      store: { url: 'postgresql://certmaster@db.example.com/certmaster' },
      ra: { autosign: '*.web.example.com,db1.example.com' },
    });
    assert.equal(config.server.listen, '[::1]:8443');
    assert.deepEqual(parseListenAddress('[::1]:8443'), { host: '::1', port: 8443 });
    assert.deepEqual(parseListenAddress('0.0.0.0:443'), { host: '0.0.0.0', port: 443 });
    assert.deepEqual(parseListenAddress('LocalHost:8443'), { host: 'localhost', port: 8443 });
    assert.equal(
      parseConfig({ webhooks: { urls: 'https://hooks.example.com/cm,http://127.0.0.1:9000/x' } }).webhooks
        .urls,
      'https://hooks.example.com/cm,http://127.0.0.1:9000/x',
    );
    assert.equal(
      parseConfig({ store: { url: 'sqlite:/var/lib/certmaster/db.sqlite' } }).store.url,
      'sqlite:/var/lib/certmaster/db.sqlite',
    );
  });

  it('refuses unknown keys, suggesting the closest known one', () => {
    const err = configError(() => parseConfig({ ra: { max_name: 3 } }, '/x/certmaster.toml'));
    assert.equal(
      err.message,
      'unknown setting "ra.max_name" in /x/certmaster.toml; did you mean ra.max_names?',
    );
    assert.equal(err.code, 'unknown_key');
    assert.equal(err.key, 'ra.max_name');
    assert.match(
      configError(() => parseConfig({ server: { max_names: 3 } })).message,
      /did you mean ra.max_names\?/,
    );
    assert.match(
      configError(() => parseConfig({ listen: '1.2.3.4:1' })).message,
      /did you mean server.listen\?/,
    );
    assert.match(
      configError(() => parseConfig({ serve: { listen: 'x' } })).message,
      /"serve.listen"; did you mean server.listen\?/,
    );
    const far = configError(() => parseConfig({ ra: { colour: 'blue' } }));
    assert.match(
      far.message,
      /^unknown setting "ra.colour"; known settings: server.listen, .*auth.throttle_max_delay_seconds, .*webhooks.max_attempts, est.labels, acme.http01_port, .*acme.orders_per_account_per_hour, acme.certificates_per_name_per_week$/,
    );
    assert.equal(closestSettingKey('zzzzzzzz'), undefined);
  });

  it('lists every setting with value, default and description', () => {
    const config = parseConfig({ ra: { max_names: 7 } });
    const listing = listSettings(config);
    assert.equal(listing.length, SETTINGS.length);
    const maxNames = listing.find((s) => s.key === 'ra.max_names');
    assert.equal(maxNames?.value, 7);
    assert.equal(maxNames?.default, 20);
    assert.ok(maxNames?.description);
  });

  it('refuses an unknown key in getSetting', () => {
    assert.match(
      configError(() => getSetting(defaultConfig(), 'ra.autosing')).message,
      /did you mean ra.autosign\?/,
    );
  });
});

describe('est.labels', () => {
  it('maps labels to profiles', () => {
    assert.equal(
      parseConfig({ est: { labels: 'routers=client, web=server' } }).est.labels,
      'routers=client, web=server',
    );
  });

  it('refuses an unknown profile, an operation name and a bad label, saying which', () => {
    assert.match(
      configError(() => parseConfig({ est: { labels: 'a=gold' } })).message,
      /est.labels = "a=gold": profile "gold" is not one of tls, server, client/,
    );
    assert.match(
      configError(() => parseConfig({ est: { labels: 'cacerts=tls' } })).message,
      /is an EST operation name/,
    );
    assert.match(configError(() => parseConfig({ est: { labels: 'a/b=tls' } })).message, /must be 1 to 64/);
    assert.match(configError(() => parseConfig({ est: { labels: 'a=tls,a=client' } })).message, /twice/);
  });
});
