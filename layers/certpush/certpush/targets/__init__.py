"""Push targets: one module per (provider, service) and the registry that lists them.

A target module declares everything that makes its target what it is (see ``definition.py``):
where it is offered, its settings, how its adapter is built, how an ``--attach`` reference reads,
its console link and how a pushed certificate can be inspected. Validation, wiring, settings, the
CLI's help and ``certpush local check`` read the registry (``registry.py``); none names a target."""
