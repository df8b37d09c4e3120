"""`restday demo`: a sample runner's ten weeks replayed through the real service.

`run` (the command), `story` (the replay), `watch` (what the service publishes, as it arrives,
and which of it the short story tells), `screen` (what is printed), `summary` (the header and
the final recommendation), `broker` (its own MQTT broker), `data` (the story's days, nights,
weigh-ins and pain), `sample` (the sample athlete); `restday demo --household`: `household`
(two runners, one shared scale) and `ben` (the second runner).
"""
