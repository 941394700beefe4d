/* Hall display: the loudspeaker. A two-tone chime, then the call in Mandarin.
 *
 * The voice is the browser's own (speechSynthesis, a zh-CN voice) when it has one; otherwise
 * the server's recording of the phrase (espeak-ng, made offline and cached), played in an
 * <audio> element; when the server has no speech engine either, the board stays text-only and
 * the queue keeps its rhythm. An utterance in progress is never cancelled: a call ends when
 * the voice says it has ended, or when a generous per-call safety limit has passed.
 *
 * `silent` keeps every step but makes no sound and takes a few milliseconds (tests, or a
 * second board next to a speaking one).
 */
(function (root) {
  "use strict";

  const { sleep } = root.HallAnnounce;
  const SILENT_MS = { chime: 30, say: 90 };
  const TEXT_ONLY_MS = 2500; // no voice at all: a call still holds the "now calling" panel
  const HARD_LIMIT_MS = 20000; // a voice that "speaks" longer than this is stuck

  function voiceScore(voice) {
    const lang = (voice.lang || "").replace(/_/g, "-").toLowerCase();
    if (["zh-cn", "cmn-cn", "zh-hans-cn", "cmn-hans-cn"].includes(lang)) return 4;
    if (["zh", "cmn", "zh-hans", "cmn-hans"].includes(lang)) return 3;
    if (lang.startsWith("cmn")) return 2;
    if (lang === "zh-tw" || lang === "zh-hant-tw") return 1; // Mandarin, Taiwan's accent
    return 0; // zh-HK/yue is Cantonese: no
  }

  class Speaker {
    constructor({ hall, silent = false, voice = "", audioUrl = "/display/api/announcement/audio" }) {
      this.hall = hall;
      this.silent = silent;
      this.voicePreference = voice;
      this.audioUrl = audioUrl;
      this.recordings = new Map(); // "A023|5" → URL or null (bounded)
      this.mode = silent ? "silent" : "pending"; // browser | server | text | silent
      this.context = null;
      this.audio = null;
      this.utterance = null; // kept referenced: Chrome drops the events of collected utterances
      if (!silent) this._prepareSound();
    }

    _prepareSound() {
      const Context = root.AudioContext || root.webkitAudioContext;
      if (Context) {
        try {
          this.context = new Context();
        } catch (error) {
          this.context = null;
        }
      }
      this.audio = new Audio();
      this.audio.preload = "auto";
      if ("speechSynthesis" in root) {
        root.speechSynthesis.getVoices(); // voices load asynchronously; ask early
        root.speechSynthesis.addEventListener?.("voiceschanged", () => this.browserVoice());
      }
    }

    /* True while the browser blocks sound until somebody touches the screen. */
    needsGesture() {
      return !this.silent && this.context !== null && this.context.state === "suspended";
    }

    unlock() {
      if (this.context) this.context.resume().catch(() => {});
      if (this.audio) {
        this.audio.muted = true;
        this.audio.play().catch(() => {}).finally(() => (this.audio.muted = false));
      }
    }

    browserVoice() {
      if (this.voicePreference === "server" || !("speechSynthesis" in root)) return null;
      const voices = root.speechSynthesis.getVoices() || [];
      if (this.voicePreference) {
        const named = voices.find((v) => v.name.includes(this.voicePreference));
        if (named) return named;
      }
      let best = null;
      for (const voice of voices) {
        const score = voiceScore(voice) * 2 + (voice.localService ? 1 : 0);
        if (voiceScore(voice) > 0 && (!best || score > best.score)) best = { voice, score };
      }
      return best ? best.voice : null;
    }

    async chime() {
      if (this.silent) return sleep(SILENT_MS.chime);
      const ctx = this.context;
      if (!ctx || ctx.state !== "running") return sleep(300);
      const start = ctx.currentTime + 0.05;
      // 叮咚: E5 then C5, each a bell-like sine with a soft octave, decaying.
      [[659.25, 0], [523.25, 0.48]].forEach(([freq, at]) => this._bell(freq, start + at));
      return sleep(1500);
    }

    _bell(freq, at) {
      const ctx = this.context;
      const gain = ctx.createGain();
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.5, at + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 1.1);
      gain.connect(ctx.destination);
      [[freq, 1], [freq * 2, 0.25], [freq * 3, 0.08]].forEach(([f, level]) => {
        const osc = ctx.createOscillator();
        const partial = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = f;
        partial.gain.value = level;
        osc.connect(partial).connect(gain);
        osc.start(at);
        osc.stop(at + 1.15);
      });
    }

    /* Say one call; resolves when it has been said (or cannot be). */
    async say(item) {
      if (this.silent) return sleep(SILENT_MS.say);
      const voice = this.browserVoice();
      if (voice) {
        this.mode = "browser";
        return this._speak(item.speech, voice);
      }
      const url = await this.prepare(item);
      if (url) {
        this.mode = "server";
        return this._play(url);
      }
      this.mode = "text";
      return sleep(TEXT_ONLY_MS);
    }

    _speak(text, voice) {
      return new Promise((resolve) => {
        const synth = root.speechSynthesis;
        const utterance = new SpeechSynthesisUtterance(text);
        utterance.lang = voice.lang || "zh-CN";
        utterance.voice = voice;
        utterance.rate = 0.9;
        utterance.volume = 1;
        this.utterance = utterance;
        const started = Date.now();
        let timer = null;
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          clearInterval(keepAlive);
          resolve();
        };
        // Past the expected length, look again each second: finish once the voice is quiet
        // (its end event was lost), or after the hard limit (the engine is stuck).
        const check = () => {
          if (!synth.speaking || Date.now() - started > HARD_LIMIT_MS) finish();
          else timer = setTimeout(check, 1000);
        };
        const keepAlive = setInterval(() => synth.paused && synth.resume(), 4000);
        utterance.onend = finish;
        utterance.onerror = finish;
        timer = setTimeout(check, 3000 + 400 * text.length);
        synth.speak(utterance);
      });
    }

    /* The server's recording of this call (asked once per call and kept), or null. */
    async prepare(item) {
      if (this.silent || this.browserVoice()) return null;
      const key = `${item.number}|${item.window}`;
      if (this.recordings.has(key)) return this.recordings.get(key);
      const params = new URLSearchParams({ hall: this.hall, number: item.number, window: item.window });
      const pending = fetch(`${this.audioUrl}?${params}`, { headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((body) => (body && body.audio) || null)
        .catch(() => null);
      this.recordings.set(key, pending);
      if (this.recordings.size > 50) this.recordings.delete(this.recordings.keys().next().value);
      const url = await pending;
      if (!url) this.recordings.delete(key); // try again next time (the server may get a voice)
      return url;
    }

    /* Say a short text that is not a call (the kiosk's 长辈版 reads each choice aloud): the
       browser's Mandarin voice, else the server's recording of it asked with `params` (a
       service of the hall or a fixed kiosk phrase, never free text). What was being said
       stops: a new touch speaks over the last one. */
    async sayText(text, params, speechUrl = "/display/api/speech") {
      if (this.silent) return sleep(SILENT_MS.say);
      this.hush();
      const voice = this.browserVoice();
      if (voice) {
        this.mode = "browser";
        return this._speak(text, voice);
      }
      if (!params) return null;
      const query = new URLSearchParams({ hall: this.hall, ...params });
      const key = `text|${query}`;
      if (!this.recordings.has(key)) {
        this.recordings.set(key, fetch(`${speechUrl}?${query}`, { headers: { Accept: "application/json" } })
          .then((response) => (response.ok ? response.json() : null))
          .then((body) => (body && body.audio) || null)
          .catch(() => null));
      }
      const url = await this.recordings.get(key);
      if (!url) {
        this.recordings.delete(key);
        this.mode = "text";
        return null;
      }
      this.mode = "server";
      return this._play(url);
    }

    /* Stop what is being said (the kiosk only: a board never cuts a call short). */
    hush() {
      if ("speechSynthesis" in root && root.speechSynthesis.speaking) root.speechSynthesis.cancel();
      if (this.audio && !this.audio.paused) this.audio.pause();
    }

    _play(url) {
      return new Promise((resolve) => {
        const audio = this.audio;
        let timer = null;
        const finish = () => {
          clearTimeout(timer);
          audio.onended = audio.onerror = null;
          resolve();
        };
        audio.onended = finish;
        audio.onerror = finish;
        timer = setTimeout(finish, HARD_LIMIT_MS);
        audio.src = url;
        audio.play().catch(finish);
      });
    }
  }

  root.HallSpeaker = { Speaker, voiceScore };
})(window);
