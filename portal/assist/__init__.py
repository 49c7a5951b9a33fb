"""Remote assisted service (远程帮办): a citizen books a slot or asks now (a queue), meets a
帮办员 in a session page (WebRTC audio/video signalled over a WebSocket, text chat), and may
share a draft so the assistant proposes values, accepted field by field, or enters them
directly (代办) under revocable consent. Live events cross processes through ``hub``."""
