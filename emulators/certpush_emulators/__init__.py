"""Emulators of the clouds certpush pushes to, one package per provider: what `--simulate` and the tests
run instead of the real APIs. Each behaviour names the reference page it follows; never kinder than the cloud."""
