"""Google Gemini: the Gemini API in Google AI Studio (type `gemini`) and Vertex
AI (type `vertex`). One wire format (generateContent), two ways in."""
