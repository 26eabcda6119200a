"""Mechanisms: the channel and synapse contract (`base`), neurosim's
channels and synapses, surrogate spike functions, and the jaxley adapter."""
