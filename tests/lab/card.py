#!/usr/bin/python3
"""One emulated officer card of the training lab, in one virtual reader.

Runs Debian's virtualsmartcard ISO 7816-4 card (vicc) connected to vpcd on PORT. Unlike Debian's
`vicc`, the card's contents persist: its (master file, SAM) state is loaded from STATE at start and
saved atomically after every APDU, so removing the card (stopping this process) and inserting it
again gives back the same card. Fixes, at launch, vicc 0.8's crash on commands without an Le
byte. When pcscd has taken the card (asked for its ATR), READY is created.
"""
import argparse
import logging
import os
import pickle
import sys

parser = argparse.ArgumentParser()
parser.add_argument('--state', required=True)
parser.add_argument('--port', type=int, required=True)
parser.add_argument('--ready', required=True)
args = parser.parse_args()

from virtualsmartcard.VirtualSmartcard import Iso7816OS, VirtualICC  # noqa: E402

# vicc 0.8 bug: a command without an Le byte has le=None, which formatResult compares with ints.
_format_result = Iso7816OS.formatResult


def format_result(self, seekable, le, data, sw, sm):
    return _format_result(self, seekable, 0 if le is None else le, data, sw, sm)


Iso7816OS.formatResult = format_result

icc = VirtualICC(None, 'iso7816', '127.0.0.1', args.port, logginglevel=logging.ERROR)
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


def execute(msg):
    answer = _execute(msg)
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
