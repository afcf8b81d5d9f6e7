"""The domain: pure logic over the ports. No boto3, no httpx, no os.environ."""
