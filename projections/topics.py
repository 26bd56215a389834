"""The referral events' topics, which the folds compare an event's type with (a string compare is
cheaper than ``isinstance`` against the events' classes)."""

from domain.referral import Referral
from domain.supplier import Supplier

REFERRED = Referral.Referred.TOPIC
MATCHED = Referral.Matched.TOPIC
PRICE_AGREED = Referral.PriceAgreed.TOPIC
EXTENDED = Referral.Extended.TOPIC
ADJUSTED = Referral.Adjusted.TOPIC
CLOSED = Referral.Closed.TOPIC
REGISTERED = Supplier.Registered.TOPIC
