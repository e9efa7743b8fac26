import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../src/telemetry/index.js';
import {
  TemplateMiner,
  compileLogFormat,
  evaluateLoghub,
  groupingAccuracy,
  isVariable,
  loadLoghub,
  maskToken,
  mergeTokens,
  type TemplateMinerState,
} from '../../src/encode/templates/index.js';

const datasets = process.env.RS_DATASETS ?? fileURLToPath(new URL('../../../shared/datasets', import.meta.url));
const loghub = join(datasets, 'loghub-2k');
const haveLoghub = existsSync(join(loghub, 'formats.json'));

function masked(line: string): string {
  return new TemplateMiner().tokenize(line).join(' ');
}

test('masking: numbers, signed and decimal, and ids with digits', () => {
  // a unit after a number joins it, and a run of variables is one variable
  assert.equal(masked('took 123 ms'), 'took <*>');
  assert.equal(masked('free -1.5 GB of 20'), 'free <*> of <*>');
  assert.equal(masked('PacketResponder 1 for block blk_-1608999687919862906 terminating'), 'PacketResponder <*> for block <*> terminating');
  assert.equal(maskToken('uid=0'), 'uid=<*>');
  assert.equal(maskToken('(pid:1234),'), '(pid:<*>),');
  assert.equal(maskToken('broadcast_9_piece0'), '<*>');
  assert.equal(maskToken('dn228'), '<*>');
  assert.equal(maskToken('write_block_invoke.434'), 'write_block_invoke.<*>');
});

test('masking: names with a digit stay words', () => {
  for (const w of ['eth0', 'ssh2', 'SOCKS5', 'IPV6', 'isBluetoothA2dpOn', 'Slf4jLogger']) {
    assert.equal(isVariable(w), false, w);
    assert.equal(maskToken(w), w);
  }
  for (const w of ['t761', '9f4ef63', 'an14', 'x86_64', 'job_1445_0020']) assert.equal(isVariable(w), true, w);
});

test('masking: IPs with ports, hex, uuids, paths, URLs, e-mails, hosts, dates', () => {
  assert.equal(maskToken('10.0.0.1:8080'), '<*>');
  assert.equal(maskToken('/10.251.43.21:50010'), '<*>');
  assert.equal(maskToken('[fe80::1ff:fe23:4567:890a]:443'), '<*>');
  assert.equal(maskToken('rhost=218.188.2.4'), 'rhost=<*>');
  assert.equal(maskToken('0x7fe133460660'), '<*>');
  assert.equal(maskToken('mask=ffffffff'), 'mask=<*>');
  assert.equal(maskToken('b9000564-fe1a-409b-b8cc-1e88b294cd1d'), '<*>');
  assert.equal(maskToken('/var/log/app.log'), '<*>');
  assert.equal(maskToken('C:\\Windows\\System32\\drivers'), '<*>');
  assert.equal(maskToken("'/etc/hosts'."), "'<*>'.");
  assert.equal(maskToken('https://example.com/a?b=1'), '<*>');
  assert.equal(maskToken('<ops@example.org>'), '<<*>>');
  assert.equal(maskToken('mail.cs.example.edu'), '<*>');
  assert.equal(maskToken('org.apache.hadoop.mapred.Task'), 'org.apache.hadoop.mapred.Task');
  assert.equal(maskToken('v6.1.7601.23505'), '<*>');
  assert.equal(masked('connection at Fri Jun 17 07:07:00 2005'), 'connection at <*>');
  assert.equal(masked('size 5.2 KB, free 1 MB'), 'size <*> <*>, free <*>');
  assert.equal(maskToken('()'), '(<*>)');
});

test('masking rules can be switched off', () => {
  const m = new TemplateMiner({ mask: { digits: false, ips: false, collapse: false } });
  assert.equal(m.tokenize('port 22 from 10.0.0.1').join(' '), 'port 22 from 10.0.0.1');
});

test('mergeTokens keeps the common text around one variable', () => {
  assert.equal(mergeTokens('user=root', 'user=test'), 'user=<*>');
  assert.equal(mergeTokens('root', 'test'), '<*>');
  assert.equal(mergeTokens('(uid=<*>)', 'LOGIN(uid=<*>)'), '<*>');
});

test('lines of the same structure share a template; a new structure is isNew', () => {
  const m = new TemplateMiner();
  const a = m.add('Connection from 10.0.0.1 port 22 on eth0');
  assert.equal(a.isNew, true);
  const b = m.add('Connection from 192.168.7.12 port 2222 on eth0');
  assert.equal(b.isNew, false);
  assert.equal(b.templateId, a.templateId);
  assert.equal(b.template, 'Connection from <*> port <*> on eth0');
  assert.deepEqual(b.params, ['192.168.7.12', '2222']);
  const c = m.add('Disconnected from 10.0.0.1');
  assert.equal(c.isNew, true);
  assert.notEqual(c.templateId, a.templateId);
  // a different word is a different event until enough different words show it is a variable
  const d = m.add('Connection from 10.0.0.1 port 22 on wlan0');
  assert.notEqual(d.templateId, a.templateId);
  assert.deepEqual(
    m.templates().map((t) => [t.template, t.count]),
    [
      ['Connection from <*> port <*> on eth0', 2],
      ['Disconnected from <*>', 1],
      ['Connection from <*> port <*> on wlan0', 1],
    ],
  );
});

test('a word position with enough different values becomes a variable', () => {
  const m = new TemplateMiner({ variableValues: 4 });
  const ids = ['root', 'admin', 'guest', 'oracle', 'backup'].map((u) => m.add(`session opened for user ${u} by uid 0`).templateId);
  const resolved = ids.map((id) => m.resolve(id));
  assert.equal(new Set(resolved).size, 1);
  assert.equal(m.template(resolved[0]), 'session opened for user <*> by uid <*>');
  assert.equal(m.templates().length, 1);
  assert.equal(m.templates()[0].count, 5);
  // a new user now matches the merged template directly
  assert.equal(m.add('session opened for user nobody by uid 99').templateId, resolved[0]);
  // three values are not enough
  const m3 = new TemplateMiner({ variableValues: 4 });
  const ids3 = ['Paused', 'Resumed', 'Stopped'].map((s) => m3.add(`VM ${s} on host a1 (Lifecycle Event)`).templateId);
  assert.equal(new Set(ids3.map((id) => m3.resolve(id))).size, 3);
});

test('templates that differ only by optional variables merge', () => {
  const m = new TemplateMiner();
  const a = m.add('h:80 close, 403 bytes sent, 426 bytes received, lifetime <1 sec');
  const b = m.add('h:80 close, 1190 bytes (1.16 KB) sent, 1671 bytes (1.63 KB) received, lifetime 00:02');
  const c = m.add('data source name an14 an15 an16');
  const d = m.add('data source name an17 an18 an19 an20 an21');
  assert.equal(m.resolve(b.templateId), m.resolve(a.templateId));
  assert.equal(m.resolve(d.templateId), m.resolve(c.templateId));
  assert.notEqual(m.resolve(a.templateId), m.resolve(c.templateId));
});

test('state round-trips through JSON: same ids, same templates, match() agrees', () => {
  const lines = [
    'Accepted password for root from 10.0.0.1 port 22 ssh2',
    'Accepted password for root from 10.0.0.2 port 2200 ssh2',
    'Invalid user admin from 10.0.0.3',
    'Invalid user guest from 10.0.0.4',
    'Invalid user oracle from 10.0.0.5',
    'Invalid user test from 10.0.0.6',
    'Received disconnect from 10.0.0.7: 11: Bye Bye [preauth]',
    'pam_unix(sshd:session): session closed for user root',
  ];
  const m = new TemplateMiner();
  const ids = lines.map((l) => m.add(l).templateId).map((id) => m.resolve(id));
  assert.equal(new Set(ids.slice(2, 6)).size, 1, 'four user names make a variable');
  const state = JSON.parse(JSON.stringify(m.toJSON())) as TemplateMinerState;
  assert.equal(state.version, 1);
  const r = TemplateMiner.fromJSON(state);
  assert.deepEqual(r.templates(), m.templates());
  for (let i = 0; i < lines.length; i++) {
    assert.equal(r.resolve(ids[i]), ids[i]);
    assert.deepEqual(r.match(lines[i]), m.match(lines[i]));
    assert.equal(r.match(lines[i])?.templateId, ids[i]);
  }
  const unseen = 'Invalid user nobody from 10.9.9.9';
  assert.deepEqual(r.match(unseen), m.match(unseen));
  assert.equal(r.match('something never seen before'), undefined);
  // learning goes on identically after the round trip
  const more = ['Accepted password for root from 10.1.1.1 port 1 ssh2', 'Server listening on 0.0.0.0 port 22.', unseen];
  for (const l of more) assert.deepEqual(r.add(l), m.add(l));
  assert.deepEqual(r.toJSON(), m.toJSON());
  assert.throws(() => TemplateMiner.fromJSON({ ...state, version: 2 } as unknown as TemplateMinerState), /version 1/);
});

test('match() does not learn', () => {
  const m = new TemplateMiner();
  m.add('job 1 done in 3 ms');
  const before = JSON.stringify(m.toJSON());
  assert.equal(m.match('job 7 done in 30 ms')?.template, 'job <*> done in <*>');
  assert.equal(m.match('job started'), undefined);
  // a line add() would merge by its constant tokens is matched too
  assert.equal(m.match('job 7 (2 s) done in 30 ms')?.templateId, m.match('job 7 done in 30 ms')?.templateId);
  assert.equal(JSON.stringify(m.toJSON()), before);
});

test('options are checked', () => {
  assert.throws(() => new TemplateMiner({ depth: 1 }), RangeError);
  assert.throws(() => new TemplateMiner({ similarity: 1.5 }), RangeError);
  assert.throws(() => new TemplateMiner({ maxChildren: 0 }), RangeError);
  assert.throws(() => new TemplateMiner({ variableValues: 2.5 }), RangeError);
});

test('extra masks apply to the raw line', () => {
  const m = new TemplateMiner({ extraMasks: [/req-[a-z]+/] });
  assert.equal(m.add('handled req-abc ok').template, 'handled <*> ok');
  assert.equal(m.add('handled req-xyz ok').isNew, false);
});

test('groupingAccuracy counts lines whose predicted group is exactly their true group', () => {
  assert.equal(groupingAccuracy([1, 1, 2, 2], ['a', 'a', 'b', 'b']), 1);
  // b is split: its 2 lines are wrong; a is right
  assert.equal(groupingAccuracy([1, 1, 2, 3], ['a', 'a', 'b', 'b']), 0.5);
  // a and b merged: all wrong
  assert.equal(groupingAccuracy([1, 1, 1, 1], ['a', 'a', 'b', 'b']), 0);
  assert.equal(groupingAccuracy([5, 1, 1], ['c', 'a', 'a']), 1);
  assert.throws(() => groupingAccuracy([1], ['a', 'b']));
});

test('compileLogFormat: spaces match any white space, \\[ is a bracket, optional parts', () => {
  const { regex, fields } = compileLogFormat('<Date> <Time> <Component>(\\[<PID>\\])?: <Content>');
  assert.deepEqual(fields, ['Date', 'Time', 'Component', 'PID', 'Content']);
  const m = regex.exec('2005-06-14   15:16:01 sshd[19939]: authentication failure');
  assert.equal(m?.groups?.Content, 'authentication failure');
  assert.equal(m?.groups?.PID, '19939');
  const n = regex.exec('2005-06-14 15:16:01 cupsd: cupsd startup succeeded');
  assert.equal(n?.groups?.Component, 'cupsd');
  assert.equal(n?.groups?.Content, 'cupsd startup succeeded');
});

test('evaluateLoghub: a folder without formats.json is a user error', async () => {
  await assert.rejects(evaluateLoghub(join(datasets, 'no-such-folder')), (e: unknown) => e instanceof UserError && /formats\.json/.test(e.message));
});

test('loghub-2k: the parsed Content equals the ground truth on every line of every system', { skip: !haveLoghub && 'datasets absent' }, async () => {
  const systems = await loadLoghub(loghub);
  assert.equal(systems.length, 16);
  for (const s of systems) {
    assert.equal(s.contents.length, 2000, s.name);
    assert.equal(s.truthContents.length, 2000, s.name);
    for (let i = 0; i < s.contents.length; i++) assert.equal(s.contents[i], s.truthContents[i], `${s.name} line ${i + 1}`);
  }
});

test('loghub-2k: average grouping accuracy ≥ 0.90 with one configuration', { skip: !haveLoghub && 'datasets absent' }, async () => {
  const r = await evaluateLoghub(loghub, { passes: 1 });
  assert.equal(Object.keys(r.systems).length, 16);
  assert.ok(r.average >= 0.9, `average GA ${r.average}`);
  // regression floor: the figure measured when this was written is 0.980 (docs/templates.md)
  assert.ok(r.average >= 0.975, `average GA ${r.average} fell below the measured 0.98`);
  for (const [s, ga] of Object.entries(r.systems)) assert.ok(ga >= 0.9, `${s} GA ${ga}`);
  assert.ok(r.linesPerSecond > 0);
});
