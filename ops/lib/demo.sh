#!/usr/bin/env bash
# Registers the demo identities (partners, operators, ...) after migrate and seed.
# Called by ops/run as: ops/lib/demo.sh VAR_DIR   (cwd: repository root), with ONETRIPD and
# ONETRIP_CONFIG in the environment. A stub for now: to be filled in with the demo data.
set -euo pipefail
exit 0
