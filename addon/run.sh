#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# ==============================================================================
# restday's add-on: asks the Supervisor for the MQTT broker (bashio: the Supervisor's API is
# reachable only from here) and hands it, with the options in /data/options.json, to
# `python3 -m restday.addon`, which writes restday's configuration, exchanges a pasted Strava
# code once, and becomes `restday run`. Arguments go to it (for tests: --no-run, paths).
#
# Never raise bashio's log level to debug here: its API calls would then log the broker's
# password (restday's own log level is the log_level option, and restday never logs secrets).
# ==============================================================================

service='{}'
if bashio::services.available mqtt; then
    service="$(bashio::services mqtt)"
else
    bashio::log.warning "Home Assistant offers no MQTT broker: install and start the" \
        "Mosquitto broker add-on (or set [mqtt] host in restday.toml in this add-on's" \
        "config folder)."
fi

bashio::log.info "Starting restday..."
exec python3 -m restday.addon --mqtt-service - "$@" <<<"${service}"
