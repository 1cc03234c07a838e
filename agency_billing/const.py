"""Named constants shared by the models, wizards and tests."""

# What the billing run does with an invoice once created.
AUTOMATION_DRAFT = "draft"
AUTOMATION_POST = "post"
AUTOMATION_SEND = "send"
AUTOMATION_LEVELS = [
    (AUTOMATION_DRAFT, "Leave in draft"),
    (AUTOMATION_POST, "Post"),
    (AUTOMATION_SEND, "Post and send by email"),
]
