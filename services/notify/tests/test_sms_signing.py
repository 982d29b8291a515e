"""The providers' published signing examples, reproduced byte for byte.

No live provider was called: these vectors come from the providers' own documentation.
"""

from __future__ import annotations

from datetime import UTC, datetime

from notify.channels.signing import aliyun_signature, aliyun_string_to_sign, percent_encode, tc3_authorization
from notify.channels.sms import SmsMessage
from notify.channels.sms_aliyun import AliyunSms
from notify.channels.sms_tencent import TencentSms


def test_aliyun_sms_documented_send_sms_example() -> None:
    """Alibaba Cloud SMS (短信服务) API reference, "签名机制" (help.aliyun.com/document_detail/101343, formerly
    /56189): AccessKeyId `testId`, AccessKeySecret `testSecret`, SendSms to 15300000001 with 阿里云短信测试专用,
    SMS_71390007, {"customer":"test"}, OutId 123, nonce 45e25e9b-…, Timestamp 2017-07-12T02:42:19Z, GET.
    Published StringToSign and signature `zJDF+Lrzhj/ThnlvIToysFRq6t4=`."""
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun_string_to_sign("GET", params) == (
        "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001"
        "%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD"
        "%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1"
        "%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode%3D"
        "SMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp%3D"
        "2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
    )
    assert aliyun_signature("GET", params, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    # A Signature parameter already present is not signed over.
    assert (
        aliyun_signature("GET", {**params, "Signature": "x"}, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    )


def test_aliyun_rpc_documented_describe_regions_example() -> None:
    """Alibaba Cloud RPC signature (version 1.0) documentation, e.g. alibabacloud.com/help/doc-detail/196741
    ("Signature calculation", ECS DescribeRegions): AccessKeyId `testid`, secret `testsecret`, nonce
    3ee8c1b8-…, published signature `CT9X0VtwR86fNWSnsc6v8YGOjuE=`. The example's request spells the time
    parameter `TimeStamp`, as published; the value only reproduces with that spelling."""
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "TimeStamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert aliyun_signature("GET", params, "testsecret") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="


def test_pop_percent_encoding_rules() -> None:
    assert percent_encode("a b*~") == "a%20b%2A~"
    assert percent_encode("/=&+") == "%2F%3D%26%2B"
    assert percent_encode("派") == "%E6%B4%BE"


def test_tencent_documented_tc3_example() -> None:
    """Tencent Cloud API 3.0 "签名方法 v3" / "Signature v3" (cloud.tencent.com/document/api/382/52072 for SMS,
    tencentcloud.com/document/api/1150/49447, the same example on every product's page): SecretId
    AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE, SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE, CVM DescribeInstances,
    POST application/json; charset=utf-8, timestamp 1551113065 (UTC date 2019-02-25). Published payload hash
    35e9c5b0…, canonical request hash 5ffe6a04…, signature 72e494ea…. Newer copies of the page mask the keys
    with asterisks; this is the unmasked version of the same example."""
    payload = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    authorization = tc3_authorization(
        secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        service="cvm",
        host="cvm.tencentcloudapi.com",
        content_type="application/json; charset=utf-8",
        payload=payload,
        timestamp=1551113065,
    )
    assert authorization == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


MESSAGE = SmsMessage("+86 138-0013-8000", "连心党建", "SMS_1", {"name": "李明", "date": "2026-12-02"}, "d-1")
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_the_aliyun_adapter_signs_what_it_posts() -> None:
    sms = AliyunSms(access_key_id="id", access_key_secret="sec", endpoint="http://x/", now=lambda: NOW)
    params = sms.request_params(MESSAGE, nonce="n-1")
    assert params["PhoneNumbers"] == "13800138000" and params["OutId"] == "d-1"
    assert params["TemplateParam"] == '{"name":"李明","date":"2026-12-02"}'
    assert params["Timestamp"] == "2026-12-01T02:00:00Z"
    assert params["Signature"] == aliyun_signature("POST", params, "sec")
    assert params["Signature"] != aliyun_signature("POST", params, "other")
    assert "138" not in repr(MESSAGE)


def test_the_tencent_adapter_signs_over_host_and_body_with_positional_parameters() -> None:
    sms = TencentSms(
        secret_id="AKID",
        secret_key="key",
        sdk_app_id="1400006666",
        endpoint="https://sms.tencentcloudapi.com/",
        now=lambda: NOW,
    )
    headers, payload = sms.request(MESSAGE)
    assert b'"PhoneNumberSet":["+8613800138000"]' in payload
    assert '"TemplateParamSet":["李明","2026-12-02"]'.encode() in payload
    assert (
        headers["X-TC-Timestamp"] == str(int(NOW.timestamp()))
        and headers["Host"] == "sms.tencentcloudapi.com"
    )
    assert headers["Authorization"] == tc3_authorization(
        secret_id="AKID",
        secret_key="key",
        service="sms",
        host="sms.tencentcloudapi.com",
        content_type="application/json; charset=utf-8",
        payload=payload,
        timestamp=int(NOW.timestamp()),
    )
    assert "/2026-12-01/sms/tc3_request" in headers["Authorization"]


def test_answers_are_sent_retry_or_never() -> None:
    assert AliyunSms.classify(200, b'{"Code":"OK","BizId":"1^0"}').message_id == "1^0"
    throttled = AliyunSms.classify(400, b'{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"limit"}')
    assert not throttled.ok and throttled.retryable
    bad = AliyunSms.classify(400, b'{"Code":"isv.SMS_TEMPLATE_ILLEGAL","Message":"tpl"}')
    assert not bad.ok and not bad.retryable and "SMS_TEMPLATE_ILLEGAL" in bad.detail
    assert AliyunSms.classify(502, b"<html>").retryable
    ok = TencentSms.classify(
        200, b'{"Response":{"SendStatusSet":[{"Code":"Ok","SerialNo":"5000:1","Fee":2}]}}'
    )
    assert ok.ok and ok.message_id == "5000:1" and ok.units == 2
    assert TencentSms.classify(
        200, b'{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"x"}}}'
    ).retryable
    tpl = TencentSms.classify(
        200, b'{"Response":{"SendStatusSet":[{"Code":"FailedOperation.TemplateIncorrectOrUnapproved"}]}}'
    )
    assert not tpl.ok and not tpl.retryable
