"""A real ClamAV clamd for the upload tests (Debian's clamav-daemon).

Clamd      one clamd process with a temporary clamd.conf: its socket,
           database and temporary files in a temporary directory, in the
           foreground, stopped by its own PID.  Its database is two tiny
           signature files written here, so no signature download is
           needed and it starts in a fraction of a second:
             parley.hdb  the MD5 and size of the EICAR test file;
             parley.ndb  a body signature for MARKER anywhere in a file
                         (so that the test can prove a large file is
                         scanned whole, not just hashed).
"""

import atexit
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

CLAMD = shutil.which('clamd') or '/usr/sbin/clamd'

# The EICAR anti-virus test file (68 bytes): harmless, and every scanner
# is meant to flag it.
EICAR = (b'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-'
         b'FILE!$H+H*')
EICAR_NAME = 'Parley.Test.EICAR'
# A marker of our own, matched anywhere in a file by a body signature.
MARKER = b'PARLEY-TEST-MALWARE-MARKER-7f3a9c'
MARKER_NAME = 'Parley.Test.Marker'


_started = []


@atexit.register
def _stop_leftovers():
    """Safety net (an interrupted run): no clamd of ours outlives us."""
    for c in _started:
        c.stop()


def available():
    return os.access(CLAMD, os.X_OK)


class Clamd:
    def __init__(self, start=True, stream_max='64M'):
        self.dir = tempfile.mkdtemp(prefix='clamd-')
        self.db = os.path.join(self.dir, 'db')
        os.mkdir(self.db)
        self.sock = os.path.join(self.dir, 'clamd.sock')
        self.conf = os.path.join(self.dir, 'clamd.conf')
        self.log_path = os.path.join(self.dir, 'clamd.log')
        self.proc = None
        with open(os.path.join(self.db, 'parley.hdb'), 'w') as f:
            f.write('%s:%d:%s\n' % (hashlib.md5(EICAR).hexdigest(),
                                    len(EICAR), EICAR_NAME))
        with open(os.path.join(self.db, 'parley.ndb'), 'w') as f:
            f.write('%s:0:*:%s\n' % (MARKER_NAME, MARKER.hex()))
        with open(self.conf, 'w') as f:
            f.write('\n'.join([
                'LocalSocket %s' % self.sock,
                'LocalSocketMode 600',
                'Foreground yes',
                'DatabaseDirectory %s' % self.db,
                'TemporaryDirectory %s' % self.dir,
                'LogFile %s' % self.log_path,
                'StreamMaxLength %s' % stream_max,
                'MaxFileSize %s' % stream_max,
                'MaxScanSize 512M',
                # A file past the limits above is an alert, not "OK".
                'AlertExceedsMax yes',
                'Bytecode no',
                'SelfCheck 3600',
                '']))
        if start:
            self.start()

    def start(self, timeout=30):
        logf = open(self.log_path + '.out', 'ab')
        self.proc = subprocess.Popen([CLAMD, '-c', self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf)
        logf.close()
        _started.append(self)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError('clamd exited with %s:\n%s'
                                     % (self.proc.returncode, self.log()))
            if self.ping():
                return
            time.sleep(0.05)
        raise AssertionError('clamd did not answer within %ss:\n%s'
                             % (timeout, self.log()))

    def ping(self):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(2)
            s.connect(self.sock)
            s.sendall(b'zPING\0')
            ok = s.recv(16) == b'PONG\0'
            s.close()
            return ok
        except OSError:
            return False

    def scan(self, data):
        """clamd's own verdict on data (to check the signatures)."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(self.sock)
        s.sendall(b'zINSTREAM\0' + len(data).to_bytes(4, 'big') + data +
                  b'\0\0\0\0')
        r = s.recv(1024)
        s.close()
        return r.rstrip(b'\0').decode()

    def log(self):
        out = []
        for p in (self.log_path, self.log_path + '.out'):
            try:
                with open(p, 'rb') as f:
                    out.append(f.read().decode('utf-8', 'replace'))
            except OSError:
                pass
        return '\n'.join(out)

    def stop(self):
        """SIGTERM to this clamd only (by its PID), then wait."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
