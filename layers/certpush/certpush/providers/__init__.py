"""Providers: one package per cloud, holding everything that makes it what it is for certpush.

``providers/<provider>/`` has its client (and signer), region tables, settings, one module per
service it offers as a push target (the ``PushTargetDefinition``: regions, settings, how its adapter
is built, how an ``--attach`` reference reads, its console link and inspection), the adapters those
modules build lazily, and its certificate rules. ``registry.py`` lists the providers, one line each;
validation, wiring, help texts and inspection read the registry and name no provider."""
