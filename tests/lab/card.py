#!/usr/bin/python3
"""One emulated officer card of the training lab, in one virtual reader.

Runs Debian's virtualsmartcard ISO 7816-4 card (vicc) connected to vpcd on PORT. Unlike Debian's
`vicc`, the card's contents persist: its (master file, SAM) state is loaded from STATE at start and
saved atomically after every APDU that changes it, so removing the card (stopping this process) and inserting it
again gives back the same card. Fixes, at launch, what vicc 0.8 gets wrong against ISO 7816-4,
so that the lab's cards behave as real officer cards do:
- a command without an Le byte crashed formatResult (le=None);
- VERIFY answered a wrong PIN with 63 00; a card says 63 Cx (x tries left), 69 83 once blocked,
  and VERIFY without data asks for the tries left without spending one;
- CHANGE REFERENCE DATA crashed (bytes.replace with str) and took its data as the new PIN with no
  check; ISO P1=00 carries the current PIN followed by the new one.
When pcscd has taken the card (asked for its ATR), READY is created.
"""
import argparse
import logging
import os
import pickle
import socket
import sys

parser = argparse.ArgumentParser()
parser.add_argument('--state', required=True)
parser.add_argument('--port', type=int, required=True)
parser.add_argument('--ready', required=True)
args = parser.parse_args()

from virtualsmartcard.VirtualSmartcard import Iso7816OS, VirtualICC  # noqa: E402
from virtualsmartcard.SmartcardSAM import SAM  # noqa: E402
from virtualsmartcard.SWutils import SW, SW_MESSAGES, SwError  # noqa: E402

PIN_TRIES = 3
for _tries in range(16):
    SW_MESSAGES.setdefault(0x63C0 | _tries, 'Verification failed, %d tries left' % _tries)

# vicc 0.8 bug: a command without an Le byte has le=None, which formatResult compares with ints.
_format_result = Iso7816OS.formatResult


def format_result(self, seekable, le, data, sw, sm):
    return _format_result(self, seekable, 0 if le is None else le, data, sw, sm)


Iso7816OS.formatResult = format_result


def tries_left(sam):
    return 0x63C0 | max(0, min(sam.counter, 15))


def verify(self, p1, p2, pin):
    if p1 != 0x00:
        raise SwError(SW["ERR_INCORRECTP1P2"])
    if self.counter <= 0:
        raise SwError(SW["ERR_AUTHBLOCKED"])
    if not pin:
        raise SwError(tries_left(self))
    if pin == self.PIN:
        self.counter = PIN_TRIES
        return SW["NORMAL"], b""
    self.counter -= 1
    if self.counter <= 0:
        raise SwError(SW["ERR_AUTHBLOCKED"])
    raise SwError(tries_left(self))


def change_reference_data(self, p1, p2, data):
    if p1 != 0x00 or len(data) <= len(self.PIN):
        raise SwError(SW["ERR_INCORRECTP1P2"])
    if self.counter <= 0:
        raise SwError(SW["ERR_AUTHBLOCKED"])
    current, new = data[:len(self.PIN)], data[len(self.PIN):]
    if current != self.PIN:
        self.counter -= 1
        raise SwError(SW["ERR_AUTHBLOCKED"] if self.counter <= 0 else tries_left(self))
    self.PIN = new
    self.counter = PIN_TRIES
    return SW["NORMAL"], b""


SAM.verify = verify
SAM.change_reference_data = change_reference_data

icc = VirtualICC(None, 'iso7816', '127.0.0.1', args.port, logginglevel=logging.ERROR)


class QuickAck:
    """vpcd sends a command's length and body in two writes; with Nagle on its side and delayed
    ACKs on ours that costs 40 ms an APDU. Acknowledging at once removes the wait."""

    def __init__(self, sock):
        self.sock = sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def recv(self, size):
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return self.sock.recv(size)

    def __getattr__(self, name):
        return getattr(self.sock, name)


icc.sock = QuickAck(icc.sock)
if os.path.exists(args.state):
    with open(args.state, 'rb') as f:
        mf, sam = pickle.load(f)
    # Point the instruction table at the restored objects, not the freshly generated ones.
    Iso7816OS.__init__(icc.os, mf, sam)


def save():
    tmp = args.state + '.tmp'
    with open(tmp, 'wb') as f:
        pickle.dump((icc.os.mf, icc.os.SAM), f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, args.state)


if not os.path.exists(args.state):
    save()

_execute = icc.os.execute

# Instructions that change what the card holds (files, PIN, PIN counter); the others only read.
CHANGING = {0x0c, 0x0e, 0x0f, 0x20, 0x24, 0x2c, 0x46, 0xd0, 0xd1, 0xd2, 0xd6, 0xd7, 0xda, 0xdb, 0xdc, 0xdd, 0xe0, 0xe2, 0xe4}


def execute(msg):
    answer = _execute(msg)
    if len(msg) > 1 and msg[1] in CHANGING:
        save()
    return answer


icc.os.execute = execute

_get_atr = icc.os.getATR


def get_atr():
    if not os.path.exists(args.ready):
        open(args.ready, 'w').close()
    return _get_atr()


icc.os.getATR = get_atr
sys.stdout.flush()
icc.run()
