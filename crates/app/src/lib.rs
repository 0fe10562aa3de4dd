//! Use cases shared by the CLI, the bot and the website: sign up, extend, block, delete, links, the node access feed.
