"""MQTT, the only code that speaks it: the client (`client`), the message as received
(`message`) and the topics restday reads and writes (`topics`)."""

from restday.integrations.mqtt.client import (
    RECONNECT_MAX_S,
    MqttLink,
    Retry,
    check_broker,
    new_client,
)

__all__ = ["RECONNECT_MAX_S", "MqttLink", "Retry", "check_broker", "new_client"]
