"""`restday demo`: a sample runner's ten weeks replayed through the real service.

`run` (the command), `story` (the replay and what it prints), `broker` (its own MQTT broker),
`data` (the story's days, nights, weigh-ins and pain), `sample` (the sample athlete).
"""
