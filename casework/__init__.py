"""The domain the bot and the back office share: citizens, conversations, requests, handoffs,
ratings, staff, the outbox and the database they live in."""
