"""Settings.from_env: the functions' environment parsed once into a model, with clear errors."""

from __future__ import annotations

import pytest

from certpush.errors import ConfigurationError
from certpush.providers.aws.elb import DEFAULT_CONSOLE_TEMPLATE, AwsElbSettings
from certpush.providers.huaweicloud.shared import HuaweiCloudSettings
from certpush.settings import Settings

pytestmark = pytest.mark.unit

REQUIRED = {
    "RECORDS_TABLE": "certpush-records",
    "INVENTORY_TABLE": "certpush-inventory",
    "PUSH_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/certpush-push",
    "EVENT_BUS_NAME": "certpush",
}


def test_required_variables_and_defaults() -> None:
    settings = Settings.from_env({**REQUIRED, "PATH": "/usr/bin", "AWS_REGION": "us-east-1"})

    assert settings.records_table == "certpush-records"
    assert settings.inventory_table == "certpush-inventory"
    assert settings.push_queue_url.endswith("/certpush-push")
    assert settings.event_bus_name == "certpush"
    assert settings.notify_topic_arn is None
    assert (settings.max_attempts, settings.retry_base_seconds, settings.retry_max_seconds) == (5, 10, 900)
    assert settings.target_settings(AwsElbSettings).console_template == DEFAULT_CONSOLE_TEMPLATE
    assert settings.target_settings(HuaweiCloudSettings).credentials_secret_id is None
    assert settings.target_settings(HuaweiCloudSettings).project_ids == {}


def test_optional_variables_are_parsed() -> None:
    settings = Settings.from_env(
        {
            **REQUIRED,
            "NOTIFY_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:certpush",
            "PUSH_MAX_ATTEMPTS": "7",
            "RETRY_BASE_SECONDS": "2",
            "RETRY_MAX_SECONDS": "60",
            "SECRETS_PREFIX": "team/certs",
        }
    )

    assert settings.notify_topic_arn == "arn:aws:sns:us-east-1:123456789012:certpush"
    assert (settings.max_attempts, settings.retry_base_seconds, settings.retry_max_seconds) == (7, 2, 60)
    assert settings.secrets_prefix == "team/certs"


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_variable_is_named(missing: str) -> None:
    environ = {k: v for k, v in REQUIRED.items() if k != missing}

    with pytest.raises(ConfigurationError) as exc_info:
        Settings.from_env(environ)

    assert str(exc_info.value) == f"certpush settings are missing or invalid: {missing}"


def test_every_missing_variable_is_listed_at_once() -> None:
    with pytest.raises(ConfigurationError) as exc_info:
        Settings.from_env({})

    message = str(exc_info.value)
    for name in REQUIRED:
        assert name in message


def test_an_invalid_value_is_named_with_the_reason() -> None:
    with pytest.raises(ConfigurationError) as exc_info:
        Settings.from_env({**REQUIRED, "PUSH_MAX_ATTEMPTS": "0"})

    assert "PUSH_MAX_ATTEMPTS" in str(exc_info.value)
    assert "greater than or equal to 1" in str(exc_info.value)


def test_huaweicloud_variables_go_to_the_huaweicloud_settings() -> None:
    settings = Settings.from_env(
        {
            **REQUIRED,
            "HUAWEICLOUD_CREDENTIALS_SECRET_ID": "certpush/huaweicloud",
            "HUAWEICLOUD_PROJECT_IDS": '{"ap-southeast-1": "0a1b2c", "cn-north-4": "3d4e5f"}',
            "HUAWEICLOUD_ENDPOINT_TEMPLATE": "http://127.0.0.1:8765/{service}/{region}",
            "HUAWEICLOUD_TIMEOUT_SECONDS": "3.5",
            "HUAWEICLOUD_SITE": "eu",
            "HUAWEICLOUD_CDN_ENTERPRISE_PROJECT_ID": "ep-cdn",
        }
    )

    huawei = settings.target_settings(HuaweiCloudSettings)
    assert huawei.credentials_secret_id == "certpush/huaweicloud"
    assert huawei.project_ids == {"ap-southeast-1": "0a1b2c", "cn-north-4": "3d4e5f"}
    assert huawei.endpoint_template == "http://127.0.0.1:8765/{service}/{region}"
    assert huawei.timeout_seconds == 3.5
    assert (huawei.site, huawei.cdn_enterprise_project_id, huawei.domain_id) == ("eu", "ep-cdn", None)


def test_unknown_and_empty_huaweicloud_variables_are_ignored() -> None:
    settings = Settings.from_env(
        {**REQUIRED, "HUAWEICLOUD_SDK_LOG_LEVEL": "debug", "HUAWEICLOUD_CREDENTIALS_SECRET_ID": ""}
    )

    assert settings.target_settings(HuaweiCloudSettings).credentials_secret_id is None


@pytest.mark.parametrize("value", ["{not json", "ap-southeast-1=0a1b2c"])
def test_project_ids_that_are_not_json(value: str) -> None:
    with pytest.raises(ConfigurationError, match="HUAWEICLOUD_PROJECT_IDS is not a JSON object"):
        Settings.from_env({**REQUIRED, "HUAWEICLOUD_PROJECT_IDS": value})


def test_project_ids_that_are_json_but_not_an_object() -> None:
    with pytest.raises(ConfigurationError, match="HUAWEICLOUD_PROJECT_IDS"):
        Settings.from_env({**REQUIRED, "HUAWEICLOUD_PROJECT_IDS": '["0a1b2c"]'})


def test_invalid_huaweicloud_value_names_its_variable_and_reason() -> None:
    with pytest.raises(ConfigurationError) as exc_info:
        Settings.from_env({**REQUIRED, "HUAWEICLOUD_ENDPOINT_TEMPLATE": "http://127.0.0.1/{zone}"})

    assert "HUAWEICLOUD_ENDPOINT_TEMPLATE" in str(exc_info.value)
    assert "zone" in str(exc_info.value)
