"""The study keys a trial's config carries besides its GANConfig keys: the two names every part of the studies
(and the results directory) share. Its own module so that reading them imports nothing heavy."""

VARIANT_KEY = "variant"
MEMBERS_KEY = "members"  # a population trial's seeds
