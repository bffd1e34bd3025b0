"""Conversation text with real sentiment: what clients write, and what agents send.

Inbound texts are grouped by the feeling they carry, so a sentiment model run on them later
finds true positive, neutral and negative conversations, more of them positive on deals that
closed and negative on deals that were lost.
"""

from __future__ import annotations

INBOUND_POSITIVE: tuple[str, ...] = (
    "Thank you so much! We absolutely love the house on the second showing.",
    "This is great news, we are thrilled the offer was accepted!",
    "You have been amazing through all of this, thank you for being so patient with us.",
    "Wonderful, that time works perfectly for us. Excited to see it!",
    "We really appreciate how quickly you got back to us. Very helpful!",
    "The neighborhood is beautiful and the kids loved the backyard. Great find!",
    "Thanks for the listings, a couple of them look perfect for us.",
    "Best closing experience we have ever had. We will recommend you to all our friends.",
    "Awesome, the inspection came back clean! Such a relief.",
    "Perfect, thank you for negotiating those repairs. We are very happy with the result.",
    "Love the updated kitchen, it is exactly what we were hoping for.",
    "Great call on the pricing, we got three offers the first weekend!",
    "Thank you for the market report, super helpful and easy to understand.",
    "We are so excited to finally be homeowners. Thank you!",
    "Happy to move forward, the numbers look good to us.",
    "You made selling our home so easy. Fantastic job!",
    "Thanks again for the open house yesterday, it was well organized and fun.",
    "Yes! Please send over the paperwork, we are ready.",
)
INBOUND_NEUTRAL: tuple[str, ...] = (
    "Can we move the showing to Saturday morning?",
    "What are the HOA fees for that one?",
    "Please send me the disclosures when you have them.",
    "We are still reviewing the numbers with our lender.",
    "Is the property still available?",
    "How many days has it been on the market?",
    "My husband can only do evenings this week.",
    "What time is the inspection scheduled for?",
    "Could you send the address again?",
    "We will talk it over tonight and get back to you tomorrow.",
    "Do you know when the sellers plan to move out?",
    "Received the documents, will sign them this afternoon.",
    "What is the property tax rate in that area?",
    "Which school district is that house in?",
    "Please call me after 5 pm.",
    "Ok, noted.",
)
INBOUND_NEGATIVE: tuple[str, ...] = (
    "Honestly this is frustrating, nobody called me back for three days.",
    "We are disappointed the sellers rejected our offer again.",
    "The house was much smaller than the photos made it look. Waste of time.",
    "I am not happy with how the inspection negotiation went.",
    "Stop texting me, we already bought with another agent.",
    "The appraisal came in low and now the whole deal is a mess.",
    "This process has been stressful and confusing, I feel ignored.",
    "Terrible news about the financing, I am really upset.",
    "We are going to pause our search, prices are just too high right now.",
    "Nobody showed up for the appointment, very unprofessional.",
    "I'm annoyed that the listing was already under contract when we got there.",
    "Not interested anymore, please remove me from your list.",
    "The repairs are a disaster and the sellers refuse to fix anything.",
    "Your lender partner keeps losing our paperwork. This is ridiculous.",
    "We feel pressured and are not comfortable moving forward.",
)
INBOUND = (INBOUND_POSITIVE, INBOUND_NEUTRAL, INBOUND_NEGATIVE)

# Outbound messages, written after a greeting with the client's first name.
OUTBOUND: tuple[str, ...] = (
    "thanks for reaching out! When would be a good time for a quick call about your search?",
    "I found a few new listings that match what you described. Want me to set up showings?",
    "just checking in to see how your home search is going.",
    "the sellers countered at the asking price. Let's talk through our options today.",
    "here is the market report for your neighborhood this month.",
    "your inspection is confirmed for Thursday at 10 am.",
    "great news, the lender cleared the loan to close!",
    "I have a price update on the home you liked on Saturday.",
    "following up on our conversation. Are you still thinking of listing this spring?",
    "reminder that our appointment is tomorrow. See you there!",
    "congratulations again on your new home! Let me know if you need anything.",
    "I would love to help you find the right place. What matters most to you in a home?",
)
GREETINGS: tuple[str, ...] = ("Hi ", "Hello ", "Good morning ", "Hey ")
