"""The embedded stack: moto in server mode as AWS, the Huawei Cloud simulator, and in-process
pollers that deliver events to the same handlers as Lambda's event source mappings would.
Needs the CLI extras (moto); never imported by the Lambda functions."""
