/* Hall display: announcement texts and the announcement queue. No DOM and no sound here.
 *
 * The texts mirror display/announce.py (a browser test checks that both agree): the ticket
 * number digit by digit in Chinese characters, the window number as a normal number:
 *   text   "请 A023 号到 15 号窗口办理"              (on screen)
 *   speech "请 A 零 二 三 号,到 十五 号窗口办理"      (to the voice)
 *
 * The queue is a loudspeaker's queue: calls are said one after another in the order they
 * came, each after a chime and `repeat` times; nothing is cut off and nothing is dropped.
 * Every step has a safety timeout, so a broken speech engine delays the queue, never stops it.
 */
(function (root) {
  "use strict";

  const DIGITS = "零一二三四五六七八九";
  const TICKET_NUMBER = /^[A-Z][0-9]{3,5}$/;
  const WINDOW_NUMBER = /^[1-9][0-9]{0,2}$/;

  function readDigits(digits) {
    return Array.from(digits, (d) => DIGITS[Number(d)]).join(" ");
  }

  function readNumber(value) {
    if (!Number.isInteger(value) || value < 0 || value > 9999) return null;
    if (value === 0) return DIGITS[0];
    const parts = [];
    let gap = false;
    for (const [size, unit] of [[1000, "千"], [100, "百"], [10, "十"], [1, ""]]) {
      const digit = Math.floor(value / size) % 10;
      if (digit === 0) {
        gap = parts.length > 0;
        continue;
      }
      if (gap) {
        parts.push(DIGITS[0]);
        gap = false;
      }
      parts.push(DIGITS[digit] + unit);
    }
    const spoken = parts.join("");
    return spoken.startsWith("一十") ? spoken.slice(1) : spoken;
  }

  /* The call of ticket `number` to `window`, or null when either is not a real number. */
  function announcement(number, window) {
    const ticket = String(number ?? "");
    const label = String(window ?? "");
    if (!TICKET_NUMBER.test(ticket) || !WINDOW_NUMBER.test(label)) return null;
    const desk = Number(label);
    return {
      number: ticket,
      window: desk,
      text: `请 ${ticket} 号到 ${desk} 号窗口办理`,
      speech: `请 ${ticket[0]} ${readDigits(ticket.slice(1))} 号,到 ${readNumber(desk)} 号窗口办理`,
    };
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /* Remembers the last `size` keys only: a display runs for days. */
  class RecentKeys {
    constructor(size) {
      this.size = size;
      this.keys = new Set();
    }
    has(key) {
      return this.keys.has(key);
    }
    add(key) {
      this.keys.add(key);
      if (this.keys.size > this.size) this.keys.delete(this.keys.values().next().value);
    }
  }

  function pushBounded(list, value, size) {
    list.push(value);
    if (list.length > size) list.splice(0, list.length - size);
  }

  class AnnouncementQueue {
    /* player: {chime(item), say(item, round), prepare?(item)}, each returning a Promise. */
    constructor(player, options = {}) {
      this.player = player;
      this.repeat = Math.min(Math.max(Math.round(options.repeat ?? 2), 1), 5);
      this.gapMs = options.gapMs ?? 700; // silence between two sayings and two calls
      this.backlog = options.backlog ?? 4; // this many calls waiting: say each once (0: never)
      this.stepTimeoutMs = options.stepTimeoutMs ?? 25000;
      this.maxPending = options.maxPending ?? 200;
      this.logSize = options.logSize ?? 100;
      this.onStart = options.onStart || (() => {});
      this.onDone = options.onDone || (() => {});
      this.pending = [];
      this.current = null;
      this.announcements = []; // texts in the order they were queued (the last `logSize`)
      this.played = []; // texts in the order they were said
      this.seen = new RecentKeys(options.seenSize ?? 500); // event ids already queued
    }

    /* Queue a call ({id, text, speech, ...}); false if this event was queued before. */
    enqueue(item) {
      if (item.id) {
        if (this.seen.has(item.id)) return false;
        this.seen.add(item.id);
      }
      this.pending.push(item);
      if (this.pending.length > this.maxPending) {
        // Only a display whose sound has been stuck for hours gets here; keep memory bounded.
        console.warn("announcement queue overflow: oldest call dropped", this.pending.shift());
      }
      pushBounded(this.announcements, item.text, this.logSize);
      if (this.player.prepare) {
        Promise.resolve()
          .then(() => this.player.prepare(item))
          .catch(() => {});
      }
      this._next();
      return true;
    }

    get length() {
      return this.pending.length + (this.current ? 1 : 0);
    }

    async _next() {
      if (this.current || this.pending.length === 0) return;
      const item = (this.current = this.pending.shift());
      try {
        this.onStart(item);
        await this._step(() => this.player.chime(item));
        const times = this.backlog > 0 && this.pending.length >= this.backlog ? 1 : this.repeat;
        for (let round = 0; round < times; round += 1) {
          if (round > 0) await sleep(this.gapMs);
          await this._step(() => this.player.say(item, round));
        }
      } catch (error) {
        console.error("announcement failed", error);
      }
      pushBounded(this.played, item.text, this.logSize);
      try {
        this.onDone(item);
      } catch (error) {
        console.error(error);
      }
      await sleep(this.gapMs);
      this.current = null;
      this._next();
    }

    _step(action) {
      let timer;
      const limit = new Promise((resolve) => {
        timer = setTimeout(resolve, this.stepTimeoutMs);
      });
      const work = Promise.resolve()
        .then(action)
        .catch((error) => console.warn("announcement step failed", error));
      return Promise.race([work, limit]).finally(() => clearTimeout(timer));
    }
  }

  root.HallAnnounce = {
    DIGITS,
    readDigits,
    readNumber,
    announcement,
    AnnouncementQueue,
    RecentKeys,
    pushBounded,
    sleep,
  };
})(window);
