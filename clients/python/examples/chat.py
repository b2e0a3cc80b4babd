"""Chat and stream against a local gateway (`make run`): python examples/chat.py"""

import asyncio
import sys

from llm_gateway_client import GatewayClient, chat_input, user


async def main(address: str = "127.0.0.1:50051") -> None:
    async with GatewayClient(address) as gw:
        reply = await gw.chat(chat_input("echo", user("Hello, gateway!")))
        print("chat:", reply.message.parts[0].text, f"({reply.usage.total_tokens} tokens)")
        print("stream:", end=" ")
        async for event in gw.stream(chat_input("echo", user("one two three"))):
            if event.HasField("text_delta"):
                print(event.text_delta.text, end="", flush=True)
        print()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
