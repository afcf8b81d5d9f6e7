"""AWS as moto emulates it, in a process of its own, with the patches that make it no kinder than AWS.
Needs the `simulate` extra (moto)."""
