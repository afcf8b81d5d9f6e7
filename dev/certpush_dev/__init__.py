"""What certpush needs on a developer's or operator's machine and never ships to Lambda: the
command line (`certpush_cli`) and the embedded stack with the Huawei Cloud simulator
(`certpush_dev.local`). The runtime package `certpush` never imports this package."""
