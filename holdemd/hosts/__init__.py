"""Several hosts, one run: the head, its nodes, and the CURVE keys that let them talk over TCP.

``keys`` is the key directory (layout, ``holdemd keys init``, loading); ``curve`` makes ZeroMQ
sockets CURVE servers and clients; ``guard`` answers the head's ZAP requests and logs every
refused connection.
"""
