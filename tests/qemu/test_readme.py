#!/usr/bin/env python3
"""README's session transcript is what this build prints: the transcript
script boots the kernel, types the same commands and compares (figures that
follow host time masked). `make readme-transcript` regenerates it."""
import os
import subprocess
import sys

from tally import finish, ok

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
run = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "readme_transcript.py"), "--check"],
                     capture_output=True, text=True, timeout=300)
ok(run.returncode == 0, "README's transcript matches this build (else: make readme-transcript)",
   run.stdout[-3000:] + run.stderr[-1000:])
sys.exit(finish())
