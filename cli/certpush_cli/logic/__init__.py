"""The operator's use cases that no Lambda function runs (importing certificates, reading their files,
retracting, the dead-letter queue): they ship with the CLI, not in the layer
(tests/unit/test_layer_boundary.py keeps the layer to what the functions run)."""
