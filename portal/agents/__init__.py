"""经办人授权: a legal representative authorises a named person (name + ID number) to act for
the enterprise, for a period and a scope (all matters or chosen one-things). The agent sees
the invitation on their profile and accepts it; either side can end it; the validity is
checked on every request by auth.actor.
"""
