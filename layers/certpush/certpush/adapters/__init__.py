"""Adapters: boto3 and httpx live here and nowhere else."""
