"""Adapters to the outside worlds (Strava, MQTT, Home Assistant, device payloads)."""
