"""The channels, one folder each, plugged in through one interface (plugin.py) and listed in
registry.py; what they share: wire.py (what a wire format must hold to be stored), peer.py
(who is asking)."""
