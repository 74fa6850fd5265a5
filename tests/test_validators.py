"""The validators on their own: the value minigun reads, and a reason without a name.

tests/test_config.py drives them through ``Config.set``, which adds the setting's
name to the message; here each is called directly.
"""

import ssl

import pytest

from minigun import validators


def test_validators_return_the_type_minigun_reads():
    assert validators.validate_seconds("0.5") == 0.5
    assert validators.validate_positive_int("3") == 3
    assert validators.validate_bind("127.0.0.1:80") == ["127.0.0.1:80"]
    assert validators.validate_comma_list("A, B,") == ["A", "B"]
    assert validators.validate_proxy_protocol(True) == "auto"
    assert validators.validate_cert_reqs("required") == ssl.CERT_REQUIRED
    assert validators.validate_choice(("drop", "refuse"))("DROP") == "drop"


def test_a_reason_does_not_name_the_setting():
    """Config.set adds the name and the value; the validator gives only why."""
    with pytest.raises(ValueError, match=r"^expected a whole number$"):
        validators.validate_positive_int("many")
    with pytest.raises(TypeError, match=r"^expected a string or a list of strings$"):
        validators.validate_string_list(3)


def test_a_short_post_request_is_wrapped_to_take_four_arguments():
    calls = []

    def post_request(worker, req):
        calls.append((worker, req))

    wrapped = validators.validate_post_request(post_request)
    wrapped("worker", "req", {}, "resp")
    assert calls == [("worker", "req")]
    assert wrapped.__name__ == "post_request"


def test_a_hook_with_too_few_parameters_is_refused_with_its_signature():
    validate = validators.validate_hook("server", "worker")
    with pytest.raises(TypeError, match=r"accept 2 parameters \(server, worker\)"):
        validate(lambda server: None)


@pytest.mark.parametrize(
    ("raw", "number"),
    [("0xFF", 255), ("0o17", 15), ("0b11", 3), ("010", 10), (" 42 ", 42), (7, 7)],
)
def test_a_whole_number_in_any_base_python_writes(raw, number):
    assert validators.validate_non_negative_int(raw) == number


def test_none_is_an_empty_allow_list_and_no_forwarder_headers():
    assert validators.validate_ip_list(None) == []
    assert validators.validate_comma_list(None) == []


@pytest.mark.parametrize("network", ["100.64.0.0/1", "10.0.0.1/8", "fd00::1/8"])
def test_an_allowed_network_with_host_bits_set_is_refused(network):
    with pytest.raises(ValueError, match="has host bits set"):
        validators.validate_ip_list(f"127.0.0.1,{network}")
