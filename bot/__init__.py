"""Teams bot: Bot Framework protocol layer (adapter, auth, connector) and the bot logic.

Only `bot.adapter` imports the Bot Framework SDK; everything else speaks the neutral model in
`bot.model`, so a move to the Teams SDK replaces one module.
"""
