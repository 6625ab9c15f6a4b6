"""The events stage's algorithms, pure: no database, no Prefect.

- Grouping items into events (``EventGrouper``), one incident one event:
  same canonical URL, same normalised title, near-duplicate text by MinHash
  LSH over character n-grams, similar words (the item's IDF-weighted jieba
  words against the event's term profile of the last 24 hours), the same
  topic key (a risk point at a specific place, given by the caller) within
  48 hours, a running incident of the item's risk point, or -- last -- words
  specific to one running incident (its anchors: 东坪村 and 闻到 while the
  odour incident runs); templated reports naming other figures (one
  day's 疫情通报 and the next's) are not tied by title, text or words;
  incremental, and every assignment records which rule of the chain joined
  the item. Events an item ties together are
  merged (``Merge``, ``take_merges``), except pairs an analyst split
  (``never_merge``, ``forbid_merge``).
- Spike detection per risk point or event against its own baseline
  (``spike_test`` with ``daily_counts``/``hourly_counts``).
- Hot words and keyword suggestions (``hot_words``, ``suggest_keywords``,
  jieba TF-IDF with the risk library's terms as user words), and the heat
  score (``heat_score``, ``velocity_per_hour``).

A run of the events flow, batch by batch (the grouper is not thread-safe;
one per flow run)::

    grouper = EventGrouper(window=timedelta(days=7), never_merge=split_pairs)
    grouper.add_many(                                   # what the database already grouped
        (GroupItem(row.id, row.published_at, row.url, row.title, row.text, row.source,
                   signature_from_bytes(row.signature) if row.signature_scheme == grouper.signature_scheme else None,
                   topic_keys=row.topic_keys, word_counts=row.word_counts["words"]),
         row.event_id)
        for row in items_published_since(batch_start - grouper.window))
    for batch in new_items_in_batches_of_1000:
        assignments = grouper.assign(batch)
        # store: an event per distinct NewEvent (its seed item first), each item's
        # event, joined_by, similarity, matched_item_id, and the bytes of
        # grouper.signature_of(item_id) with grouper.signature_scheme; then
        # apply grouper.take_merges() in order (move the absorbed event's items
        # to the survivor, NewEvents named by their created ids)
        grouper.resolve({new_event: event_id for new_event, event_id in created.items()})
"""

from yuqing_core.events._grouping import (
    JOINED_BY_ANCHOR,
    JOINED_BY_MINHASH,
    JOINED_BY_POINT,
    JOINED_BY_PROFILE,
    JOINED_BY_SEED,
    JOINED_BY_THREAD,
    JOINED_BY_TITLE,
    JOINED_BY_TOPIC,
    JOINED_BY_URL,
    POINT_KEY_PREFIX,
    Assignment,
    EventGrouper,
    GroupItem,
    Merge,
    NewEvent,
    lsh_parameters,
)
from yuqing_core.events._heat import heat_score, velocity_per_hour
from yuqing_core.events._hotwords import count_words, hot_words, hot_words_from_counts, suggest_keywords
from yuqing_core.events._minhash import (
    SIGNATURE_DTYPE,
    SIGNATURE_SCHEME_VERSION,
    signature_from_bytes,
    signature_to_bytes,
    signatures,
)
from yuqing_core.events._normalize import TRACKING_PARAMS, canonical_url, event_text, title_key
from yuqing_core.events._spikes import SpikeResult, daily_counts, hourly_counts, spike_test

__all__ = [
    "JOINED_BY_ANCHOR",
    "JOINED_BY_MINHASH",
    "JOINED_BY_POINT",
    "JOINED_BY_PROFILE",
    "JOINED_BY_SEED",
    "JOINED_BY_THREAD",
    "JOINED_BY_TITLE",
    "JOINED_BY_TOPIC",
    "JOINED_BY_URL",
    "POINT_KEY_PREFIX",
    "SIGNATURE_DTYPE",
    "SIGNATURE_SCHEME_VERSION",
    "TRACKING_PARAMS",
    "Assignment",
    "EventGrouper",
    "GroupItem",
    "Merge",
    "NewEvent",
    "SpikeResult",
    "canonical_url",
    "count_words",
    "daily_counts",
    "event_text",
    "heat_score",
    "hot_words",
    "hot_words_from_counts",
    "hourly_counts",
    "lsh_parameters",
    "signature_from_bytes",
    "signature_to_bytes",
    "signatures",
    "spike_test",
    "suggest_keywords",
    "title_key",
    "velocity_per_hour",
]
