#!/bin/sh
# Installs Debian's PyTorch (with OpenBLAS) for the loss reference test when it is missing.
# The lock serialises apt among engineers sharing this machine. Needs root and the Debian mirror.
set -e
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  exit 0
fi
flock /tmp/recon-apt.lock apt-get install -y python3-torch libopenblas0-pthread
/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)'
