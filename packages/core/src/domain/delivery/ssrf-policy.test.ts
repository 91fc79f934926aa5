import assert from 'node:assert/strict';
import { assessAddress, checkWebhookUrl, describeBlockedAddress, isAddressAllowed, parseHostLiteral, type SsrfAllow } from './ssrf-policy.ts';

const NONE: SsrfAllow = { kind: 'none' };
const LOOPBACK: SsrfAllow = { kind: 'loopback' };
const PRIVATE: SsrfAllow = { kind: 'private' };
// Includes ranges around metadata addresses to show that a CIDR never opens those.
const CIDRS: SsrfAllow = { kind: 'cidrs', cidrs: ['10.1.0.0/16', '127.0.0.1/32', '169.254.0.0/16', 'fd00::/8', 'fe80::/10'] };

const Y = true;
const N = false;
// host as written in a URL, canonical address, allowed under: none, loopback, private, CIDR list
const TABLE: Array<[string, string, boolean, boolean, boolean, boolean]> = [
  ['127.0.0.1', '127.0.0.1', N, Y, Y, Y],
  ['2130706433', '127.0.0.1', N, Y, Y, Y],
  ['0x7f000001', '127.0.0.1', N, Y, Y, Y],
  ['0177.0.0.1', '127.0.0.1', N, Y, Y, Y],
  ['0177.1', '127.0.0.1', N, Y, Y, Y],
  ['127.1', '127.0.0.1', N, Y, Y, Y],
  ['0x7f.1', '127.0.0.1', N, Y, Y, Y],
  ['127.0.0.1.', '127.0.0.1', N, Y, Y, Y],
  ['127.0.0.2', '127.0.0.2', N, Y, Y, N],
  ['[::1]', '::1', N, Y, Y, N],
  ['[0:0:0:0:0:0:0:1]', '::1', N, Y, Y, N],
  ['[::ffff:127.0.0.1]', '::ffff:7f00:1', N, Y, Y, Y],
  ['[::ffff:7f00:1]', '::ffff:7f00:1', N, Y, Y, Y],
  ['[::ffff:0:7f00:1]', '::ffff:0:7f00:1', N, Y, Y, Y],
  ['[::127.0.0.1]', '::7f00:1', N, N, N, N],
  ['0.0.0.0', '0.0.0.0', N, N, N, N],
  ['0', '0.0.0.0', N, N, N, N],
  ['0.1.2.3', '0.1.2.3', N, N, N, N],
  ['[::]', '::', N, N, N, N],
  ['169.254.169.254', '169.254.169.254', N, N, N, N],
  ['0xa9fea9fe', '169.254.169.254', N, N, N, N],
  ['169.254.10.1', '169.254.10.1', N, N, N, N],
  ['[::ffff:169.254.169.254]', '::ffff:a9fe:a9fe', N, N, N, N],
  ['[fd00:ec2::254]', 'fd00:ec2::254', N, N, N, N],
  ['100.100.100.200', '100.100.100.200', N, N, N, N],
  ['10.0.0.1', '10.0.0.1', N, N, Y, N],
  ['10.1.2.3', '10.1.2.3', N, N, Y, Y],
  ['[::ffff:10.1.2.3]', '::ffff:a01:203', N, N, Y, Y],
  ['172.16.0.1', '172.16.0.1', N, N, Y, N],
  ['172.31.255.255', '172.31.255.255', N, N, Y, N],
  ['192.168.1.1', '192.168.1.1', N, N, Y, N],
  ['100.64.0.1', '100.64.0.1', N, N, Y, N],
  ['[fc00::1]', 'fc00::1', N, N, Y, N],
  ['[fd12:3456::1]', 'fd12:3456::1', N, N, Y, Y],
  ['[fe80::1]', 'fe80::1', N, N, N, Y],
  ['224.0.0.1', '224.0.0.1', N, N, N, N],
  ['255.255.255.255', '255.255.255.255', N, N, N, N],
  ['[ff02::1]', 'ff02::1', N, N, N, N],
  ['240.0.0.1', '240.0.0.1', N, N, N, N],
  ['192.0.2.1', '192.0.2.1', N, N, N, N],
  ['[2001:db8::1]', '2001:db8::1', N, N, N, N],
  ['[2002:7f00:1::]', '2002:7f00:1::', N, N, N, N],
  ['[2002:a9fe:a9fe::]', '2002:a9fe:a9fe::', N, N, N, N],
  ['[2002:a00:1::1]', '2002:a00:1::1', N, N, N, N],
  ['[64:ff9b::a00:1]', '64:ff9b::a00:1', N, N, N, N],
  ['[64:ff9b::7f00:1]', '64:ff9b::7f00:1', N, N, N, N],
  ['[2001:0:4136:e378:8000:63bf:3fff:fdd2]', '2001:0:4136:e378:8000:63bf:3fff:fdd2', N, N, N, N],
  ['8.8.8.8', '8.8.8.8', Y, Y, Y, Y],
  ['134744072', '8.8.8.8', Y, Y, Y, Y],
  ['172.32.0.1', '172.32.0.1', Y, Y, Y, Y],
  ['[2606:4700:4700::1111]', '2606:4700:4700::1111', Y, Y, Y, Y],
  ['[2002:808:808::]', '2002:808:808::', Y, Y, Y, Y],
  ['[64:ff9b::808:808]', '64:ff9b::808:808', Y, Y, Y, Y],
  ['[::ffff:8.8.8.8]', '::ffff:808:808', Y, Y, Y, Y],
];

describe('SSRF policy: address table', () => {
  for (const [host, canonical, ...expected] of TABLE) {
    it(`${host} is ${canonical}, allowed under none/loopback/private/cidrs = ${expected.map((e) => (e ? 'Y' : 'N')).join('')}`, () => {
      assert.equal(parseHostLiteral(host), canonical, 'raw literal');
      assert.equal(parseHostLiteral(new URL(`http://${host}:8080/hook`).hostname), canonical, 'via new URL()');
      const actual = [NONE, LOOPBACK, PRIVATE, CIDRS].map((allow) => isAddressAllowed(host, allow));
      assert.deepEqual(actual, expected);
      for (const allow of [NONE, LOOPBACK, PRIVATE, CIDRS]) {
        assert.equal(describeBlockedAddress(host, allow) === undefined, isAddressAllowed(host, allow));
      }
    });
  }
});

describe('parseHostLiteral', () => {
  it('reads every IPv4 form the URL parser and inet_aton accept', () => {
    assert.equal(parseHostLiteral('4294967295'), '255.255.255.255');
    assert.equal(parseHostLiteral('0xffffffff'), '255.255.255.255');
    assert.equal(parseHostLiteral('037777777777'), '255.255.255.255');
    assert.equal(parseHostLiteral('1.16777215'), '1.255.255.255');
    assert.equal(parseHostLiteral('1.2.65535'), '1.2.255.255');
    assert.equal(parseHostLiteral('0X7F.0.0.1'), '127.0.0.1');
    assert.equal(parseHostLiteral('0x'), '0.0.0.0');
    assert.equal(parseHostLiteral('00000000000000000000000000177.1'), '127.0.0.1');
  });

  it('reads IPv6 with or without brackets, dropping a zone id', () => {
    assert.equal(parseHostLiteral('::1'), '::1');
    assert.equal(parseHostLiteral('[FE80::1]'), 'fe80::1');
    assert.equal(parseHostLiteral('fe80::1%eth0'), 'fe80::1');
    assert.equal(parseHostLiteral('[2001:DB8:0:0:0:0:0:1]'), '2001:db8::1');
  });

  it('is undefined for names and malformed addresses', () => {
    for (const host of [
      'example.com',
      'localhost',
      '',
      '1.2.3.4.5',
      '256.1.1.1',
      '4294967296',
      '1.16777216',
      '08',
      '0x1g',
      '1e3',
      '127.0.0.1x',
      '[::1',
      '::ffff:010.0.0.1',
      ':::1',
      '1:2:3:4:5:6:7:8:9',
    ]) {
      assert.equal(parseHostLiteral(host), undefined, host);
    }
  });
});

describe('isAddressAllowed', () => {
  it('refuses anything that is not an IP address', () => {
    assert.equal(isAddressAllowed('example.com', PRIVATE), false);
    assert.equal(isAddressAllowed('', CIDRS), false);
  });

  it('opens public space and the listed ranges with a CIDR list, IPv6 ranges included', () => {
    const allow: SsrfAllow = { kind: 'cidrs', cidrs: ['192.168.0.0/24', '::1/128'] };
    assert.equal(isAddressAllowed('192.168.0.200', allow), true);
    assert.equal(isAddressAllowed('192.168.1.1', allow), false);
    assert.equal(isAddressAllowed('::1', allow), true);
    assert.equal(isAddressAllowed('127.0.0.1', allow), false);
    assert.equal(isAddressAllowed('93.184.215.14', allow), true);
  });

  it('never opens metadata addresses, even to a CIDR that names them exactly', () => {
    const allow: SsrfAllow = { kind: 'cidrs', cidrs: ['169.254.169.254/32', 'fd00:ec2::254/128', '100.100.100.200/32', '0.0.0.0/0', '::/0'] };
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '100.100.100.200', '169.254.0.1', '::ffff:169.254.169.254']) {
      assert.equal(isAddressAllowed(address, allow), false, address);
    }
    assert.equal(isAddressAllowed('10.0.0.1', allow), true);
  });

  it('rejects an invalid CIDR list loudly', () => {
    assert.throws(() => isAddressAllowed('10.0.0.1', { kind: 'cidrs', cidrs: ['10.0.0.0/33'] }), /Invalid CIDR/);
  });
});

describe('assessAddress and describeBlockedAddress', () => {
  it('judges IPv4-mapped IPv6 as its IPv4 address', () => {
    assert.deepEqual(assessAddress('::ffff:127.0.0.1', LOOPBACK), {
      address: '::ffff:7f00:1',
      category: 'loopback',
      embedded: { kind: 'ipv4-mapped', ipv4: '127.0.0.1' },
      allowed: true,
    });
  });

  it('says why an address is refused', () => {
    assert.equal(describeBlockedAddress('127.0.0.1', LOOPBACK), undefined);
    assert.equal(describeBlockedAddress('127.0.0.1', NONE), '127.0.0.1 is a loopback address, which TRIGGERS_SSRF_ALLOW=none does not allow');
    assert.equal(describeBlockedAddress('169.254.169.254', PRIVATE), '169.254.169.254 is a cloud metadata address, which is always refused');
    assert.equal(describeBlockedAddress('169.254.3.4', CIDRS), '169.254.3.4 is a link-local address, which is always refused');
    assert.equal(describeBlockedAddress('0.0.0.0', LOOPBACK), '0.0.0.0 is an unspecified address, which TRIGGERS_SSRF_ALLOW=loopback does not allow');
    assert.match(describeBlockedAddress('2002:a00:1::', PRIVATE)!, /6to4 address towards private IPv4 10\.0\.0\.1/);
    assert.equal(describeBlockedAddress('example.com', PRIVATE), 'example.com is not an IP address');
  });
});

describe('checkWebhookUrl', () => {
  it('accepts http and https URLs with a host, returning the parsed URL', () => {
    for (const url of ['https://example.com/hooks?x=1', 'http://8.8.8.8:8080/in', 'https://internal.example/hook']) {
      const check = checkWebhookUrl(url, NONE);
      assert.ok(check.ok, url);
      assert.equal(check.url.href, new URL(url).href);
    }
  });

  it('refuses what cannot be a webhook URL', () => {
    const cases: Array<[string, RegExp]> = [
      ['not a url', /absolute URL/],
      ['/relative/path', /absolute URL/],
      ['ftp://example.com/hook', /http or https/],
      ['javascript:alert(1)', /http or https/],
      ['file:///etc/passwd', /http or https/],
      ['https://user:secret@example.com/hook', /credentials/],
      ['https://user@example.com/hook', /credentials/],
      ['https://:secret@example.com/hook', /credentials/],
    ];
    for (const [url, reason] of cases) {
      const check = checkWebhookUrl(url, PRIVATE);
      assert.equal(check.ok, false, url);
      if (!check.ok) assert.match(check.reason, reason, url);
    }
  });

  it('checks IP literal hosts at once, in every spelling', () => {
    for (const url of ['http://127.0.0.1/', 'http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://127.1/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/']) {
      const check = checkWebhookUrl(url, NONE);
      assert.equal(check.ok, false, url);
      if (!check.ok) {
        assert.match(check.reason, /loopback/, url);
        assert.ok(check.blocked, url);
      }
      assert.equal(checkWebhookUrl(url, LOOPBACK).ok, true, url);
    }
    const metadata = checkWebhookUrl('http://169.254.169.254/latest/meta-data/', PRIVATE);
    assert.equal(metadata.ok, false);
    if (!metadata.ok) assert.match(metadata.reason, /cloud metadata/);
  });

  it('treats localhost names as loopback', () => {
    assert.equal(checkWebhookUrl('http://localhost:3000/hook', NONE).ok, false);
    assert.equal(checkWebhookUrl('http://api.localhost/hook', NONE).ok, false);
    assert.equal(checkWebhookUrl('http://localhost:3000/hook', LOOPBACK).ok, true);
  });
});
