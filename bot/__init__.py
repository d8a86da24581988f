"""Teams bot: Bot Framework protocol layer (adapter, auth, connector) and the bot logic.

Only `bot.adapter` (botbuilder-core) and `bot.agents_adapter` (Microsoft 365 Agents SDK) import
a bot SDK, and BOT_SDK picks one; everything else speaks the neutral model in `bot.model`.
"""
