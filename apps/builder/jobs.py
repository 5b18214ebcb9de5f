"""Job kinds of the builder (submit to the network, watch for payment): filled in by issue 14."""
