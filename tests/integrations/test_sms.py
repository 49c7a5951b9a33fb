"""The SMS gateway client against the sandbox gateway, served by uvicorn on a loopback port
and mounted at /sms inside a parent app, over real HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from integrations.sandbox.sms import SmsStore, create_sms_app
from integrations.sms import SmsError, SmsGateway, SmsReceipt
from tests.integrations.helpers import free_port, serve

API_KEY = "sms-test-key"
PHONE = "13812345678"
RECEIVED = {"thing": "新生儿出生一件事", "receipt": "SJ20261112000123"}


@dataclass(frozen=True)
class Gateway:
    url: str
    store: SmsStore

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"


@pytest.fixture(scope="module")
def served() -> Iterator[Gateway]:
    port = free_port()
    app = create_sms_app(API_KEY)
    with serve(Starlette(routes=[Mount("/sms", app)]), port):
        yield Gateway(f"http://127.0.0.1:{port}/sms", app.state.store)


@pytest.fixture
def gateway(served: Gateway) -> Iterator[Gateway]:
    served.store.clear()
    yield served
    served.store.clear()
    served.store.outage = served.store.throttled = False


def send(
    api: str,
    template: str = "YJS_RECEIVED",
    params: Mapping[str, str] = RECEIVED,
    *,
    mobile: str = PHONE,
    out_id: str = "application-42:received",
    api_key: str = API_KEY,
    sign_name: str = "一件事",
    timeout: float = 10.0,
) -> SmsReceipt:
    async def sending() -> SmsReceipt:
        async with SmsGateway(api, api_key, sign_name=sign_name, timeout=timeout) as client:
            return await client.send(mobile, template, params, out_id=out_id)

    return asyncio.run(sending())


def refused(sending: Callable[[], object]) -> SmsError:
    with pytest.raises(SmsError) as caught:
        sending()
    return caught.value


def test_a_sent_message_is_recorded_with_its_rendered_text(gateway: Gateway) -> None:
    receipt = send(gateway.api)

    assert receipt.status == "accepted"
    [message] = gateway.store.messages
    assert message.message_id == receipt.message_id
    assert message.text == (
        "【一件事】您的“新生儿出生一件事”申请已收件，收件编号SJ20261112000123，"
        "可凭此编号查询办理进度。"
    )
    records = httpx2.get(
        f"{gateway.api}/messages",
        params={"phone_number": PHONE},
        headers={"authorization": f"Bearer {API_KEY}"},
    ).json()
    assert [(r["message_id"], r["text"], r["out_id"]) for r in records] == [
        (receipt.message_id, message.text, "application-42:received")
    ]
    assert records[0]["template_params"] == RECEIVED


def test_every_template_renders_with_its_params(gateway: Gateway) -> None:
    cases = {
        "YJS_ACCEPTED": {"item": "出生医学证明"},
        "YJS_SUPPLEMENT": {"due": "2026年11月30日"},
        "YJS_RESULT": {"item": "出生医学证明"},
        "YJS_DELIVERED": {"item": "社会保障卡", "detail": "EMS 单号 1186543210987"},
        "YJS_WITHDRAWN": {},
        "YJS_CONCLUDED": {},
        "YJS_LICENSE_EXPIRING": {"license": "食品经营许可证", "date": "2027年3月1日"},
    }

    for template, params in cases.items():
        send(gateway.api, template, params, out_id=f"case:{template}")

    texts = [message.text for message in gateway.store.messages]
    assert all(text.startswith("【一件事】") and "${" not in text for text in texts)
    assert "您的证照“食品经营许可证”将于2027年3月1日到期" in texts[-1]


def test_the_same_out_id_twice_sends_one_message(gateway: Gateway) -> None:
    async def twice() -> tuple[SmsReceipt, SmsReceipt]:
        async with SmsGateway(gateway.api, API_KEY) as client:
            first = await client.send(PHONE, "YJS_RECEIVED", RECEIVED, out_id="once")
            return first, await client.send(PHONE, "YJS_RECEIVED", RECEIVED, out_id="once")

    first, second = asyncio.run(twice())

    assert first == second
    assert len(gateway.store.messages) == 1


def test_a_replay_answers_200_and_another_message_under_the_same_out_id_409(
    gateway: Gateway,
) -> None:
    body: dict[str, object] = {"phone_number": PHONE, "sign_name": "一件事"}
    body |= {"template_code": "YJS_RECEIVED", "template_params": RECEIVED, "out_id": "raw"}
    headers = {"authorization": f"Bearer {API_KEY}"}
    with httpx2.Client(headers=headers) as http:
        answers = [http.post(f"{gateway.api}/messages", json=body) for _ in range(2)]
        other = http.post(f"{gateway.api}/messages", json={**body, "phone_number": "13900000000"})

    assert [answer.status_code for answer in answers] == [201, 200]
    assert answers[0].json() == answers[1].json()
    assert other.status_code == 409
    assert other.json()["error"] == "out_id_conflict"
    assert len(gateway.store.messages) == 1


def test_another_message_under_a_used_out_id_is_a_permanent_error(gateway: Gateway) -> None:
    send(gateway.api, out_id="taken")

    error = refused(
        lambda: send(gateway.api, "YJS_ACCEPTED", {"item": "出生医学证明"}, out_id="taken")
    )

    assert (error.permanent, error.code) == (True, "out_id_conflict")


def test_a_wrong_key_is_a_permanent_error(gateway: Gateway) -> None:
    error = refused(lambda: send(gateway.api, api_key="not-the-key"))

    assert (error.permanent, error.code) == (True, "unauthorized")
    assert gateway.store.messages == []


@pytest.mark.parametrize(
    "mobile", ["1381234567", "138123456789", "12812345678", "+8613812345678", "138 1234 5678"]
)
def test_an_invalid_mobile_is_a_permanent_error(gateway: Gateway, mobile: str) -> None:
    error = refused(lambda: send(gateway.api, mobile=mobile))

    assert (error.permanent, error.code) == (True, "invalid_phone_number")
    assert gateway.store.messages == []


@pytest.mark.parametrize(
    ("template", "params", "code"),
    [
        ("YJS_NO_SUCH", {"item": "出生医学证明"}, "unknown_template"),
        ("YJS_RECEIVED", {"thing": "新生儿出生一件事"}, "invalid_template_params"),
        ("YJS_ACCEPTED", {"item": "出生医学证明", "extra": "x"}, "invalid_template_params"),
        ("YJS_ACCEPTED", {"item": "长" * 36}, "invalid_template_params"),
        ("YJS_ACCEPTED", {"item": " "}, "invalid_template_params"),
    ],
)
def test_a_bad_template_or_params_is_a_permanent_error(
    gateway: Gateway, template: str, params: dict[str, str], code: str
) -> None:
    error = refused(lambda: send(gateway.api, template, params))

    assert (error.permanent, error.code) == (True, code)
    assert gateway.store.messages == []


def test_an_unapproved_sign_is_a_permanent_error(gateway: Gateway) -> None:
    error = refused(lambda: send(gateway.api, sign_name="别的平台"))

    assert (error.permanent, error.code) == (True, "unknown_sign_name")


def test_an_outage_is_transient_and_a_retry_sends_once(gateway: Gateway) -> None:
    set_faults(gateway, outage=True)
    error = refused(lambda: send(gateway.api))
    set_faults(gateway, outage=False)
    send(gateway.api)
    send(gateway.api)

    assert (error.permanent, error.code) == (False, "service_unavailable")
    assert len(gateway.store.messages) == 1


def test_throttling_is_transient(gateway: Gateway) -> None:
    set_faults(gateway, throttled=True)

    error = refused(lambda: send(gateway.api))

    assert (error.permanent, error.code) == (False, "rate_limited")


def test_the_fault_knob_refuses_anything_but_booleans(gateway: Gateway) -> None:
    answer = httpx2.post(f"{gateway.url}/sandbox/faults", json={"outage": "yes"})

    assert answer.status_code == 400
    assert httpx2.get(f"{gateway.url}/sandbox/faults").json() == {
        "outage": False,
        "throttled": False,
    }


def test_an_unreachable_gateway_is_transient() -> None:
    error = refused(lambda: send(f"http://127.0.0.1:{free_port()}/sms/api/v1"))

    assert (error.permanent, error.code) == (False, "unreachable")


def test_a_gateway_that_never_answers_times_out_transiently() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        error = refused(lambda: send(f"http://127.0.0.1:{port}/api/v1", timeout=0.2))

    assert (error.permanent, error.code) == (False, "timeout")


def test_a_malformed_request_is_400(gateway: Gateway) -> None:
    headers = {"authorization": f"Bearer {API_KEY}"}
    answer = httpx2.post(f"{gateway.api}/messages", content=b"{", headers=headers)
    missing = httpx2.post(f"{gateway.api}/messages", json={"phone_number": PHONE}, headers=headers)

    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")


def test_the_sandbox_page_lists_messages_newest_first_and_escapes_params(
    gateway: Gateway,
) -> None:
    send(gateway.api, out_id="first")
    send(gateway.api, "YJS_ACCEPTED", {"item": "<script>alert(1)</script>"}, out_id="second")

    page = httpx2.get(f"{gateway.url}/sandbox/messages")  # no key: it stands in for a phone

    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "您申请的&lt;script&gt;alert(1)&lt;/script&gt;已受理" in page.text
    assert page.text.index("second") < page.text.index("first")
    assert "SJ20261112000123" in page.text
    stylesheet = page.text.split('rel="stylesheet" href="')[1].split('"')[0]
    assert httpx2.get(httpx2.URL(gateway.url).join(stylesheet)).is_success


def set_faults(gateway: Gateway, **knobs: bool) -> None:
    answer = httpx2.post(f"{gateway.url}/sandbox/faults", json=knobs)
    assert answer.status_code == 200, answer.text
