"""`parleyctl backup`, `parleyctl restore` and `parleyctl check` (issue 8).

A backup taken while a client keeps writing to the database (messages to
an offline user, stored one by one) restores into a fresh data directory
with every message the server had acknowledged before the backup began,
and passes SQLite's integrity check.  Restore refuses while parleyd runs
on the data directory and refuses files that are not Parley databases.
`check` names each risky setting, one configuration per risk.
"""

import datetime
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import PARLEYCTL, Server, ServerTestCase, T, wait_until
from im_util import login, uid


def ctl(conf, *args, password=None):
    return subprocess.run([PARLEYCTL, '-c', conf] + list(args),
                          input=(password + '\n') if password else '',
                          capture_output=True, text=True, timeout=T(60))


def integrity(path):
    with sqlite3.connect(path) as d:
        return d.execute('PRAGMA integrity_check').fetchone()[0]


def offline_numbers(path, user):
    """The n of every 'load-n' body stored offline for user."""
    with sqlite3.connect(path) as d:
        xs = d.execute('SELECT xml FROM offline WHERE user = ?',
                       (user,)).fetchall()
    out = set()
    for (x,) in xs:
        x = x.decode() if isinstance(x, bytes) else x
        out.update(int(m) for m in re.findall(r'load-(\d+)<', x))
    return out


class Sender(threading.Thread):
    """Sends 'load-n' messages to an offline account without a pause;
    after each few, a ping: once it is answered, every message before it
    was stored (one loop, in order), and `acked` says up to which n."""

    def __init__(self, server, to):
        super().__init__(daemon=True)
        self.c = login(server, 'alice', resource='load')
        self.to = to
        self.acked = -1
        self.sent = 0
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                for _ in range(10):
                    self.c.chat(self.to, 'load-%d' % self.sent)
                    self.sent += 1
                self.c.ping(timeout=T(20))
                self.acked = self.sent - 1
        except Exception as e:      # reported by the test
            self.error = e


class BackupTest(ServerTestCase):
    CONFIG = {'limits': {'message_rate': 5000, 'message_burst': 5000,
                         'max_offline_messages': 100000,
                         'max_offline_bytes': 64 * 1024 * 1024}}
    USERS = {'alice': 'alice-pw', 'bob': 'bob-pw'}

    def db(self):
        return os.path.join(self.server.data_dir, 'parley.db')

    def test_backup_under_load_restores_everything_acknowledged(self):
        out = os.path.join(self.server.dir, 'under-load.db')
        snd = Sender(self.server, 'bob@localhost')
        snd.start()
        try:
            self.assertTrue(wait_until(lambda: snd.acked >= 2000 or
                                       snd.error, T(60)), snd.error)
            acked_before = snd.acked
            r = self.server.ctl('backup', out)
            sent_after = snd.sent
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn('backup: ' + out, r.stdout)
            # The writer kept going during the copy.
            self.assertTrue(wait_until(lambda: snd.acked > acked_before
                                       + 50, T(30)), snd.error)
        finally:
            snd.stop.set()
            snd.join(T(30))
        self.assertIsNone(snd.error)
        self.assertEqual(integrity(out), 'ok')
        # A standalone file: no -wal needed beside it.
        self.assertFalse(os.path.exists(out + '-wal'))
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)

        # Into a fresh data directory, with no parleyd running there.
        fresh = Server(start=False, name='Restored')
        try:
            r = ctl(fresh.conf_path, 'restore', out)
            self.assertEqual(r.returncode, 0, r.stderr)
            db = os.path.join(fresh.data_dir, 'parley.db')
            self.assertEqual(integrity(db), 'ok')
            got = offline_numbers(db, 'bob')
            missing = set(range(acked_before + 1)) - got
            self.assertFalse(missing, 'acknowledged before the backup '
                             'but not in it: %s' % sorted(missing)[:20])
            # And nothing the writer had not even sent when it ended.
            self.assertTrue(all(n < sent_after for n in got))
            # The restored server runs, and bob gets his messages.
            fresh.start()
            b = login(fresh, 'bob', resource='back')
            b.expect(lambda e: 'load-0<' in harness.ET.tostring(
                e).decode(), what='an offline message', timeout=20)
            b.logout()
        finally:
            harness.close_all_clients()
            fresh.stop()

    def test_restore_refused_while_parleyd_runs(self):
        out = os.path.join(self.server.dir, 'running.db')
        r = self.server.ctl('backup', out)
        self.assertEqual(r.returncode, 0, r.stderr)
        before = os.stat(self.db())
        r = self.server.ctl('restore', out)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn('pid %d' % self.server.pid, r.stderr)
        self.assertIn('stop parleyd first', r.stderr)
        self.assertEqual(os.stat(self.db()).st_ino, before.st_ino)
        self.assertEqual([f for f in os.listdir(self.server.data_dir)
                          if 'restore' in f], [])
        self.assertServerAlive()

    def test_backup_does_not_overwrite_without_force(self):
        out = os.path.join(self.server.dir, 'twice.db')
        with open(out, 'w') as f:
            f.write('precious')
        r = self.server.ctl('backup', out)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn('--force', r.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), 'precious')
        r = self.server.ctl('backup', '--force', out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(integrity(out), 'ok')
        r = self.server.ctl('backup')
        self.assertEqual(r.returncode, 2)


class RestoreRefusalTest(unittest.TestCase):
    """No parleyd: restore's own checks."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='restore-')
        self.conf = os.path.join(self.dir, 'p.conf')
        self.data = os.path.join(self.dir, 'data')
        with open(self.conf, 'w') as f:
            f.write('[server]\ndata_dir = %s\n' % self.data)
        r = ctl(self.conf, 'user', 'add', 'zoe', password='zoe-password')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.db = os.path.join(self.data, 'parley.db')
        self.good = os.path.join(self.dir, 'good.db')
        r = ctl(self.conf, 'backup', self.good)
        self.assertEqual(r.returncode, 0, r.stderr)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def refused(self, path, why):
        with open(self.db, 'rb') as f:
            before = f.read()
        r = ctl(self.conf, 'restore', path)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn(why, r.stderr)
        with open(self.db, 'rb') as f:
            self.assertEqual(f.read(), before)
        self.assertEqual([f for f in os.listdir(self.data)
                          if 'restore' in f], [])

    def test_not_a_database(self):
        p = os.path.join(self.dir, 'notes.txt')
        with open(p, 'w') as f:
            f.write('not a database at all\n' * 200)
        self.refused(p, 'not a Parley database')

    def test_another_sqlite_file(self):
        p = os.path.join(self.dir, 'other.db')
        with sqlite3.connect(p) as d:
            d.execute('CREATE TABLE things (x)')
        self.refused(p, 'not a Parley database')

    def test_damaged_backup(self):
        p = os.path.join(self.dir, 'damaged.db')
        with open(self.good, 'rb') as f:
            data = bytearray(f.read())
        # Garbage over the head of every page after the first (its
        # b-tree page header and cell pointers); the file header and the
        # schema's root page are intact, so it still opens as SQLite.
        for i in range(4096, len(data), 4096):
            data[i:i + 64] = bytes([0xff]) * 64
        with open(p, 'wb') as f:
            f.write(data)
        self.refused(p, p)

    def test_newer_schema(self):
        p = os.path.join(self.dir, 'newer.db')
        shutil.copy(self.good, p)
        with sqlite3.connect(p) as d:
            d.execute('PRAGMA user_version = 999')
        self.refused(p, 'newer Parley')

    def test_missing_file(self):
        self.refused(os.path.join(self.dir, 'nope.db'), 'nope.db')

    def test_restore_keeps_the_previous_database(self):
        # A change after the backup: the restore undoes it, the copy
        # kept aside still has it.
        r = ctl(self.conf, 'user', 'add', 'yann', password='yann-password')
        self.assertEqual(r.returncode, 0, r.stderr)
        r = ctl(self.conf, 'restore', self.good)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('previous database is kept as', r.stdout)
        aside = [f for f in os.listdir(self.data)
                 if f.startswith('parley.db.before-restore-')]
        self.assertEqual(len(aside), 1)
        with sqlite3.connect(self.db) as d:
            users = [u for (u,) in d.execute('SELECT localpart FROM users')]
        self.assertEqual(users, ['zoe'])
        with sqlite3.connect(os.path.join(self.data, aside[0])) as d:
            users = sorted(u for (u,) in d.execute(
                'SELECT localpart FROM users'))
        self.assertEqual(users, ['yann', 'zoe'])
        self.assertEqual(integrity(self.db), 'ok')


def make_cert(path_cert, path_key, not_after):
    """A self-signed certificate for localhost valid until not_after."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'localhost')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(min(now, not_after) -
                              datetime.timedelta(days=30))
            .not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    with open(path_cert, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(path_key, 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


class CheckTest(unittest.TestCase):
    """One configuration per risk: exit 6 and that risk named, alone."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='check-')

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def conf(self, text='', name='p.conf'):
        p = os.path.join(self.dir, name)
        with open(p, 'w') as f:
            f.write('[server]\ndata_dir = %s\n%s' % (
                os.path.join(self.dir, 'data-' + name), text))
        return p

    def risky(self, conf, setting, why=''):
        r = ctl(conf, 'check')
        self.assertEqual(r.returncode, 6, r.stdout + r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertTrue(lines[0].startswith('risky: %s: ' % setting),
                        r.stdout)
        self.assertIn(why, lines[0])
        return lines[0]

    def clean(self, conf):
        r = ctl(conf, 'check')
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(r.stdout.startswith('ok: '), r.stdout)

    def test_fresh_setup_is_clean(self):
        conf = self.conf()
        self.clean(conf)
        # check does not create the database to look into it.
        self.assertFalse(os.path.exists(os.path.join(self.dir,
                                                     'data-p.conf')))

    def test_each_risky_setting(self):
        for i, (text, setting) in enumerate((
                ('[auth]\nplain = on\n', '[auth] plain = on'),
                ('[register]\nmode = open\n', '[register] mode = open'),
                ('[scan]\nenabled = off\n', '[scan] enabled = off'),
                ('[scan]\nfail_open = on\n', '[scan] fail_open = on'),
                ('[limits]\nrate_limits = off\n',
                 '[limits] rate_limits = off'),
                ('[policy]\np2p_transfers = allow\n',
                 '[policy] p2p_transfers = allow'),
                ('[audit]\nretention = off\n', '[audit] retention = off'))):
            with self.subTest(setting=setting):
                self.risky(self.conf(text, 'r%d.conf' % i), setting)
        # The safe values of the same keys are clean.
        self.clean(self.conf('[register]\nmode = invite\n[audit]\n'
                             'retention = 30d\n', 'safe.conf'))

    def test_certificate_expiring_or_expired(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        for name, delta, why in (('soon', 10, 'expires in'),
                                 ('gone', -2, 'expired on'),
                                 ('fine', 400, None)):
            c = os.path.join(self.dir, name + '.pem')
            k = os.path.join(self.dir, name + '.key')
            make_cert(c, k, now + datetime.timedelta(days=delta))
            conf = self.conf('[tls]\ncert = %s\nkey = %s\n' % (c, k),
                             name + '.conf')
            with self.subTest(cert=name):
                if why is None:
                    self.clean(conf)
                else:
                    self.risky(conf, '[tls] cert', why)

    def test_no_recent_backup(self):
        conf = self.conf()
        data = os.path.join(self.dir, 'data-p.conf')
        db = os.path.join(data, 'parley.db')
        r = ctl(conf, 'user', 'add', 'ann', password='ann-password')
        self.assertEqual(r.returncode, 0, r.stderr)
        # An account and never a backup.
        self.risky(conf, 'backup', 'no backup was ever made')
        bk = os.path.join(self.dir, 'b.db')
        r = ctl(conf, 'backup', bk)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.clean(conf)
        # Older than [backup] max_age (7 days by default).
        with sqlite3.connect(db) as d:
            d.execute('UPDATE backups SET stamp = stamp - 8 * 86400')
        self.risky(conf, 'backup', '8 days old')
        # A shorter max_age flags a younger backup.
        r = ctl(conf, 'backup', '--force', bk)
        self.assertEqual(r.returncode, 0, r.stderr)
        with sqlite3.connect(db) as d:
            d.execute('UPDATE backups SET stamp = stamp - 2 * 3600')
        self.clean(conf)
        with open(conf, 'a') as f:
            f.write('[backup]\nmax_age = 1h\n')
        self.risky(conf, 'backup', 'max_age')
        # The recorded file is gone.
        r = ctl(conf, 'backup', '--force', bk)
        self.assertEqual(r.returncode, 0, r.stderr)
        os.unlink(bk)
        self.risky(conf, 'backup', 'no longer there')


if __name__ == '__main__':
    unittest.main()
