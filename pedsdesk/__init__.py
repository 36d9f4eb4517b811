"""pedsdesk: the administrative assistant for pediatric therapy practices."""
