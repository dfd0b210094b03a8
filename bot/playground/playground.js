// Shop Health Bot playground: a small Slack-like client for the bot's local playground server.
//
// Commands and clicks go to /playground/api/*, whose server side signs them and hands them to the
// bot's real Bolt listeners. Replies come back as Block Kit and are rendered here. Every piece of
// text is put into the page with textContent or createTextNode: no innerHTML anywhere.
"use strict";

(() => {
  const CHANNEL = "CPLAYGROUND";
  const USER = "UPLAYGROUND";
  const BOT_NAME = "Shop Health Bot";
  const POLL_MS = 1500;

  const EMOJI = {
    warning: "⚠️", rotating_light: "🚨", clock3: "🕒", white_check_mark: "✅", heavy_check_mark: "✔️",
    x: "❌", zzz: "💤", wave: "👋", thinking_face: "🤔", hourglass: "⌛", hourglass_flowing_sand: "⏳",
    red_circle: "🔴", large_green_circle: "🟢", large_yellow_circle: "🟡", large_orange_circle: "🟠",
    white_circle: "⚪", black_circle: "⚫", large_blue_circle: "🔵", chart_with_upwards_trend: "📈",
    chart_with_downwards_trend: "📉", bar_chart: "📊", bell: "🔔", no_bell: "🔕", tada: "🎉",
    calendar: "📆", date: "📅", spiral_calendar_pad: "🗓️", link: "🔗", mag: "🔍", bust_in_silhouette: "👤",
    busts_in_silhouette: "👥", eyes: "👀", point_right: "👉", information_source: "ℹ️", no_entry: "⛔",
    no_entry_sign: "🚫", lock: "🔒", unlock: "🔓", key: "🔑", memo: "📝", moneybag: "💰", sparkles: "✨",
    "+1": "👍", thumbsup: "👍", "-1": "👎", bulb: "💡", package: "📦", star: "⭐", fire: "🔥",
    arrow_up: "⬆️", arrow_down: "⬇️", arrow_right: "➡️", small_red_triangle: "🔺",
    small_red_triangle_down: "🔻", construction: "🚧", envelope: "✉️", email: "📧", speech_balloon: "💬",
    page_facing_up: "📄", leftwards_arrow_with_hook: "↩️", thread: "🧵", truck: "🚚",
    shield: "🛡️", mega: "📣", loudspeaker: "📢", pushpin: "📌", round_pushpin: "📍", sunny: "☀️",
    heavy_plus_sign: "➕", heavy_minus_sign: "➖", question: "❓", exclamation: "❗", ok: "🆗",
    shopping_trolley: "🛒", shopping_bags: "🛍️", hammer_and_wrench: "🛠️", gear: "⚙️", inbox_tray: "📥",
    outbox_tray: "📤", scroll: "📜", clipboard: "📋", trophy: "🏆", medal: "🏅", checkered_flag: "🏁",
    rocket: "🚀", muscle: "💪", raised_hands: "🙌", pray: "🙏", stopwatch: "⏱️", alarm_clock: "⏰",
  };

  const state = {
    next: 0,
    applied: new Set(),
    byResponse: new Map(), // response_url name -> message record
    byTs: new Map(), // "channel:ts" -> message record
    counter: 0,
    modal: null,
    history: [],
    historyAt: 0,
    pollTimer: null,
    confirmResolve: null,
    uploading: false,
    uploads: new Set(), // "channel:ts" of files dropped here: the bot answers in their thread
    channels: {}, // channel ID -> name, from the playground's workspace
    people: {}, // user ID -> name
  };

  // ------------------------------------------------------------------ DOM helpers

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Links must be absolute http(s)/mailto URLs; images may also be this server's own paths.
  function safeUrl(url, allowRelative = false) {
    if (typeof url !== "string") return null;
    try {
      const parsed = allowRelative ? new URL(url, window.location.href) : new URL(url);
      return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? parsed.href : null;
    } catch (_error) {
      return null;
    }
  }

  function uniqueName(prefix) {
    state.counter += 1;
    return `${prefix}${state.counter}-${Date.now().toString(36)}`;
  }

  function newTs() {
    state.counter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(state.counter % 1000000).padStart(6, "0")}`;
  }

  function clock() {
    return new Date().toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  }

  function openLink(url) {
    const safe = safeUrl(url);
    if (safe) window.open(safe, "_blank", "noopener,noreferrer");
  }

  function channelLabel(id, name) {
    if (name) return `#${name}`;
    if (Object.hasOwn(state.channels, id)) return `#${state.channels[id]}`;
    if (id === CHANNEL) return "#playground";
    return `#${id}`;
  }

  function userLabel(id, name) {
    if (id === USER) return "@you";
    if (!name && Object.hasOwn(state.people, id)) return `@${state.people[id]}`;
    return `@${name || id}`;
  }

  // ------------------------------------------------------------------ mrkdwn

  const PATTERNS = [
    ["pre", /```([\s\S]+?)```/g],
    ["code", /`([^`\n]+?)`/g],
    ["angle", /<([^<>\s][^<>]*)>/g],
    ["bold", /(?<![\p{L}\p{N}*])\*(?!\s)([^*\n]+?)\*(?![\p{L}\p{N}*])/gu],
    ["italic", /(?<![\p{L}\p{N}_])_(?!\s)([^_\n]+?)_(?![\p{L}\p{N}_])/gu],
    ["strike", /(?<![\p{L}\p{N}~])~(?!\s)([^~\n]+?)~(?![\p{L}\p{N}~])/gu],
    ["emoji", /:([a-z0-9_+'-]+):/g],
  ];

  function decodeEntities(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function appendLines(parent, text) {
    String(text).split("\n").forEach((line, i) => {
      if (i > 0) parent.appendChild(document.createElement("br"));
      if (line) parent.appendChild(document.createTextNode(line));
    });
  }

  function appendPlain(parent, text) {
    appendLines(parent, decodeEntities(text));
  }

  function emojiNode(name) {
    const glyph = EMOJI[name];
    if (glyph) {
      const span = el("span", "emoji", glyph);
      span.title = `:${name}:`;
      return span;
    }
    return document.createTextNode(`:${name}:`);
  }

  function angleNode(inner) {
    const bar = inner.indexOf("|");
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? decodeEntities(inner.slice(bar + 1)) : "";
    if (target.startsWith("@")) {
      return el("span", "mention", userLabel(target.slice(1), label));
    }
    if (target.startsWith("#")) {
      return el("span", "mention channel-mention", channelLabel(target.slice(1), label));
    }
    if (target.startsWith("!")) {
      const special = target.slice(1);
      if (special.startsWith("subteam^")) return el("span", "mention", label || "@group");
      if (special.startsWith("date^")) return document.createTextNode(label || special);
      return el("span", "mention", `@${special}`);
    }
    const href = safeUrl(decodeEntities(target));
    if (!href) return document.createTextNode(`<${decodeEntities(inner)}>`);
    const link = el("a", "link", label || decodeEntities(target));
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    return link;
  }

  function renderMrkdwn(parent, text, depth = 0) {
    const source = String(text ?? "");
    let pos = 0;
    while (pos < source.length) {
      let best = null;
      for (const [kind, pattern] of PATTERNS) {
        if (depth > 0 && kind === "pre") continue;
        pattern.lastIndex = pos;
        const match = pattern.exec(source);
        if (match && (!best || match.index < best.match.index)) best = { kind, match };
      }
      if (!best) break;
      appendPlain(parent, source.slice(pos, best.match.index));
      const inner = best.match[1];
      switch (best.kind) {
        case "pre":
          parent.appendChild(el("pre", "pre", decodeEntities(inner.replace(/^\n/, ""))));
          break;
        case "code":
          parent.appendChild(el("code", "code", decodeEntities(inner)));
          break;
        case "angle":
          parent.appendChild(angleNode(inner));
          break;
        case "emoji":
          parent.appendChild(emojiNode(inner));
          break;
        default: {
          const tag = { bold: "b", italic: "i", strike: "s" }[best.kind];
          const node = el(tag);
          renderMrkdwn(node, inner, depth + 1);
          parent.appendChild(node);
        }
      }
      pos = best.match.index + best.match[0].length;
    }
    appendPlain(parent, source.slice(pos));
  }

  function renderPlain(parent, text, emoji = true) {
    const source = String(text ?? "");
    if (!emoji) {
      appendLines(parent, source);
      return;
    }
    const pattern = /:([a-z0-9_+'-]+):/g;
    let pos = 0;
    let match;
    while ((match = pattern.exec(source)) !== null) {
      appendLines(parent, source.slice(pos, match.index));
      parent.appendChild(emojiNode(match[1]));
      pos = match.index + match[0].length;
    }
    appendLines(parent, source.slice(pos));
  }

  function renderText(parent, textObject) {
    if (!textObject) return parent;
    if (typeof textObject === "string") {
      renderMrkdwn(parent, textObject);
    } else if (textObject.type === "mrkdwn") {
      renderMrkdwn(parent, textObject.text);
    } else {
      renderPlain(parent, textObject.text, textObject.emoji !== false);
    }
    return parent;
  }

  function plainOf(textObject) {
    if (!textObject) return "";
    return typeof textObject === "string" ? textObject : String(textObject.text ?? "");
  }

  // ------------------------------------------------------------------ Block Kit

  // ctx: {record} for a message, {view} for a modal or App Home; interactive elements call
  // sendAction(ctx, element, blockId, extra).
  function renderBlocks(parent, blocks, ctx) {
    const list = el("div", "blocks");
    for (const block of blocks || []) {
      if (!block || typeof block !== "object") continue;
      const node = renderBlock(block, ctx);
      if (node) {
        node.dataset.blockType = String(block.type);
        if (block.block_id) node.dataset.blockId = String(block.block_id);
        list.appendChild(node);
      }
    }
    parent.appendChild(list);
    return list;
  }

  function renderBlock(block, ctx) {
    switch (block.type) {
      case "header": {
        const node = el("div", "bk-header");
        renderText(node, block.text);
        return node;
      }
      case "section":
        return renderSection(block, ctx);
      case "context": {
        const node = el("div", "bk-context");
        for (const item of block.elements || []) {
          if (item && item.type === "image") {
            node.appendChild(imageNode(item.image_url, item.alt_text, "bk-context-image"));
          } else if (item) {
            node.appendChild(renderText(el("span", "bk-context-text"), item));
          }
        }
        return node;
      }
      case "divider":
        return el("hr", "bk-divider");
      case "actions": {
        const node = el("div", "bk-actions");
        for (const element of block.elements || []) {
          const child = renderElement(element, block, ctx);
          if (child) node.appendChild(child);
        }
        return node;
      }
      case "image": {
        const node = el("figure", "bk-image");
        if (block.title) node.appendChild(renderText(el("figcaption", "bk-image-title"), block.title));
        node.appendChild(imageNode(block.image_url || (block.slack_file && block.slack_file.url), block.alt_text));
        return node;
      }
      case "input":
        return renderInput(block, ctx);
      case "rich_text":
        return renderRichText(block);
      default: {
        return el("div", "bk-unsupported", `[${block.type} block: not shown in the playground]`);
      }
    }
  }

  function imageNode(url, alt, className = "bk-image-img") {
    const href = safeUrl(url, true);
    const img = el("img", className);
    img.alt = String(alt || "");
    img.loading = "lazy";
    if (href) img.src = href;
    img.addEventListener("error", () => img.classList.add("broken"));
    return img;
  }

  function renderSection(block, ctx) {
    const node = el("div", "bk-section");
    const body = el("div", "bk-section-body");
    if (block.text) body.appendChild(renderText(el("div", "bk-section-text"), block.text));
    if (Array.isArray(block.fields) && block.fields.length) {
      const grid = el("div", "bk-fields");
      for (const field of block.fields) grid.appendChild(renderText(el("div", "bk-field"), field));
      body.appendChild(grid);
    }
    node.appendChild(body);
    if (block.accessory) {
      const accessory = block.accessory.type === "image"
        ? imageNode(block.accessory.image_url, block.accessory.alt_text, "bk-accessory-image")
        : renderElement(block.accessory, block, ctx);
      if (accessory) {
        const holder = el("div", "bk-accessory");
        holder.appendChild(accessory);
        node.appendChild(holder);
      }
    }
    return node;
  }

  function renderElement(element, block, ctx) {
    if (!element || typeof element !== "object") return null;
    switch (element.type) {
      case "button":
        return renderButton(element, block, ctx);
      case "overflow":
        return renderOverflow(element, block, ctx);
      case "static_select":
        return renderSelect(element, block, ctx);
      case "image":
        return imageNode(element.image_url, element.alt_text, "bk-accessory-image");
      default:
        return el("span", "bk-unsupported", `[${element.type}]`);
    }
  }

  function renderButton(element, block, ctx) {
    const button = el("button", "bk-button");
    button.type = "button";
    if (element.style === "primary") button.classList.add("primary");
    if (element.style === "danger") button.classList.add("danger");
    renderText(button, element.text);
    if (element.url) {
      button.classList.add("url-button");
      button.title = String(element.url);
    }
    if (element.action_id) button.dataset.actionId = String(element.action_id);
    button.addEventListener("click", async () => {
      if (element.confirm && !(await confirmDialog(element.confirm))) return;
      // Slack opens a URL button's link and still sends the click to the app.
      if (element.url) openLink(element.url);
      // A URL button's click usually only feeds an audit trail: don't grey the message out.
      sendAction(
        ctx,
        block,
        { type: "button", action_id: element.action_id, value: element.value, text: plainOf(element.text) },
        { quiet: Boolean(element.url) },
      );
    });
    return button;
  }

  function renderOverflow(element, block, ctx) {
    const wrap = el("div", "bk-overflow");
    const toggle = el("button", "bk-button bk-overflow-toggle", "⋯");
    toggle.type = "button";
    toggle.title = "More actions";
    toggle.setAttribute("aria-label", "More actions");
    toggle.setAttribute("aria-haspopup", "menu");
    if (element.action_id) toggle.dataset.actionId = String(element.action_id);
    const menu = el("div", "bk-menu");
    menu.setAttribute("role", "menu");
    menu.hidden = true;
    for (const option of element.options || []) {
      const item = el("button", "bk-menu-item");
      item.type = "button";
      item.setAttribute("role", "menuitem");
      renderText(item, option.text);
      item.addEventListener("click", async () => {
        menu.hidden = true;
        if (element.confirm && !(await confirmDialog(element.confirm))) return;
        if (option.url) openLink(option.url);
        sendAction(ctx, block, {
          type: "overflow",
          action_id: element.action_id,
          selected_option: { text: option.text, value: option.value },
        });
      });
      menu.appendChild(item);
    }
    toggle.addEventListener("click", (event) => {
      event.stopPropagation();
      const wasHidden = menu.hidden;
      closeMenus();
      menu.hidden = !wasHidden;
    });
    wrap.append(toggle, menu);
    return wrap;
  }

  function closeMenus() {
    for (const menu of document.querySelectorAll(".bk-menu")) menu.hidden = true;
  }

  function optionNodes(select, element) {
    const groups = element.option_groups
      ? element.option_groups.map((g) => ({ label: plainOf(g.label), options: g.options || [] }))
      : [{ label: null, options: element.options || [] }];
    const initial = element.initial_option ? element.initial_option.value : null;
    for (const group of groups) {
      const parent = group.label ? el("optgroup") : select;
      if (group.label) {
        parent.label = group.label;
        select.appendChild(parent);
      }
      for (const option of group.options) {
        const node = el("option", null, plainOf(option.text));
        node.value = String(option.value ?? "");
        if (initial !== null && option.value === initial) node.selected = true;
        parent.appendChild(node);
      }
    }
  }

  function selectedOption(element, value) {
    const all = element.option_groups
      ? element.option_groups.flatMap((g) => g.options || [])
      : element.options || [];
    return all.find((o) => String(o.value) === value) || null;
  }

  function renderSelect(element, block, ctx, inInput = false) {
    const select = el("select", "bk-select");
    const placeholder = el("option", null, plainOf(element.placeholder) || "Select an item");
    placeholder.value = "";
    select.appendChild(placeholder);
    optionNodes(select, element);
    if (element.action_id) select.dataset.actionId = String(element.action_id);
    if (!inInput || element.dispatch_action) {
      select.addEventListener("change", () => {
        const option = selectedOption(element, select.value);
        if (!option) return;
        sendAction(ctx, block, {
          type: "static_select",
          action_id: element.action_id,
          selected_option: { text: option.text, value: option.value },
        });
      });
    }
    return select;
  }

  // Modal inputs: rendered as plain form controls; readState() turns them into view.state.values.
  function renderInput(block, ctx) {
    const node = el("div", "bk-input");
    const id = `input-${uniqueName("i")}`;
    const label = el("label", "bk-input-label");
    label.htmlFor = id;
    renderText(label, block.label);
    if (block.optional) label.appendChild(el("span", "bk-optional", " (optional)"));
    node.appendChild(label);
    const element = block.element || {};
    let control;
    switch (element.type) {
      case "plain_text_input":
        control = el(element.multiline ? "textarea" : "input", "bk-control");
        if (element.initial_value) control.value = String(element.initial_value);
        if (element.placeholder) control.placeholder = plainOf(element.placeholder);
        break;
      case "static_select":
      case "radio_buttons":
        control = renderSelect(element, block, ctx, true);
        control.classList.add("bk-control");
        break;
      case "datepicker":
        control = el("input", "bk-control");
        control.type = "date";
        if (element.initial_date) control.value = String(element.initial_date);
        break;
      case "timepicker":
        control = el("input", "bk-control");
        control.type = "time";
        if (element.initial_time) control.value = String(element.initial_time);
        break;
      case "checkboxes": {
        control = el("div", "bk-control bk-checkboxes");
        for (const option of element.options || []) {
          const row = el("label", "bk-checkbox");
          const box = el("input");
          box.type = "checkbox";
          box.value = String(option.value ?? "");
          row.append(box, renderText(el("span"), option.text));
          control.appendChild(row);
        }
        break;
      }
      default: {
        // users_select, conversations_select, channels_select and friends: type the ID.
        control = el("input", "bk-control");
        const initial = element.initial_user || element.initial_conversation || element.initial_channel;
        if (initial) control.value = String(initial);
        const kind = String(element.type || "").includes("user") ? "a user ID, e.g. U012ABC" : "an ID";
        control.placeholder = `Type ${kind}`;
      }
    }
    control.id = id;
    control.dataset.inputBlock = String(block.block_id || "");
    control.dataset.actionId = String(element.action_id || "");
    control.dataset.elementType = String(element.type || "");
    node.appendChild(control);
    if (block.hint) node.appendChild(renderText(el("div", "bk-hint"), block.hint));
    node.appendChild(el("div", "bk-error"));
    return node;
  }

  function readState(root, blocks) {
    const values = {};
    for (const control of root.querySelectorAll("[data-input-block]")) {
      const blockId = control.dataset.inputBlock;
      const actionId = control.dataset.actionId;
      const type = control.dataset.elementType;
      const block = (blocks || []).find((b) => String(b.block_id || "") === blockId) || {};
      const element = block.element || {};
      const entry = { type };
      if (type === "plain_text_input") entry.value = control.value || null;
      else if (type === "static_select" || type === "radio_buttons") {
        const option = selectedOption(element, control.value);
        entry.selected_option = option ? { text: option.text, value: option.value } : null;
      } else if (type === "datepicker") entry.selected_date = control.value || null;
      else if (type === "timepicker") entry.selected_time = control.value || null;
      else if (type === "checkboxes") {
        entry.selected_options = [...control.querySelectorAll("input:checked")]
          .map((box) => selectedOption(element, box.value))
          .filter(Boolean);
      } else if (type === "users_select") entry.selected_user = control.value.trim() || null;
      else if (type === "multi_users_select") entry.selected_users = splitIds(control.value);
      else if (type === "conversations_select") entry.selected_conversation = control.value.trim() || null;
      else if (type === "channels_select") entry.selected_channel = control.value.trim() || null;
      else if (type === "multi_conversations_select") entry.selected_conversations = splitIds(control.value);
      else if (type === "multi_channels_select") entry.selected_channels = splitIds(control.value);
      else entry.value = control.value || null;
      values[blockId] = values[blockId] || {};
      values[blockId][actionId] = entry;
    }
    return values;
  }

  function splitIds(text) {
    return String(text).split(/[\s,]+/).filter(Boolean);
  }

  function renderRichText(block) {
    const node = el("div", "bk-rich-text");
    const inline = (parent, items) => {
      for (const item of items || []) {
        if (item.type === "text") {
          const span = el("span", null, item.text);
          const style = item.style || {};
          if (style.bold) span.classList.add("bold");
          if (style.italic) span.classList.add("italic");
          if (style.strike) span.classList.add("strike");
          if (style.code) span.classList.add("code");
          parent.appendChild(span);
        } else if (item.type === "link") {
          parent.appendChild(angleNode(`${item.url}|${item.text || item.url}`));
        } else if (item.type === "emoji") {
          parent.appendChild(emojiNode(item.name));
        } else if (item.type === "user") {
          parent.appendChild(el("span", "mention", userLabel(item.user_id)));
        } else if (item.type === "channel") {
          parent.appendChild(el("span", "mention", channelLabel(item.channel_id)));
        }
      }
    };
    for (const part of block.elements || []) {
      if (part.type === "rich_text_list") {
        const list = el(part.style === "ordered" ? "ol" : "ul");
        for (const entry of part.elements || []) {
          const li = el("li");
          inline(li, entry.elements);
          list.appendChild(li);
        }
        node.appendChild(list);
      } else {
        const tag = { rich_text_preformatted: "pre", rich_text_quote: "blockquote" }[part.type] || "div";
        const container = el(tag, tag === "pre" ? "pre" : null);
        inline(container, part.elements);
        node.appendChild(container);
      }
    }
    return node;
  }

  function renderAttachments(parent, attachments, ctx) {
    for (const attachment of attachments || []) {
      const node = el("div", "attachment");
      if (typeof attachment.color === "string" && /^#?[0-9a-fA-F]{3,8}$/.test(attachment.color)) {
        node.style.borderLeftColor = attachment.color.startsWith("#") ? attachment.color : `#${attachment.color}`;
      }
      if (attachment.pretext) node.appendChild(renderText(el("div", "attachment-pretext"), attachment.pretext));
      if (attachment.title) node.appendChild(el("div", "attachment-title", attachment.title));
      if (attachment.text) node.appendChild(renderText(el("div"), attachment.text));
      if (Array.isArray(attachment.blocks)) renderBlocks(node, attachment.blocks, ctx);
      parent.appendChild(node);
    }
  }

  // ------------------------------------------------------------------ messages

  // A record: {node, body, channel, ts, isEphemeral, message, removed}
  function makeMessage({ author = BOT_NAME, isBot = true, ephemeral = false, note = null, initials = null }) {
    const node = el("div", "message");
    if (ephemeral) node.classList.add("ephemeral");
    const avatar = el("div", isBot ? "avatar bot" : "avatar user", initials || (isBot ? "SH" : "You"));
    avatar.setAttribute("aria-hidden", "true");
    const main = el("div", "message-main");
    if (ephemeral) {
      const only = el("div", "only-you");
      only.append(el("span", "eye", "👁"), document.createTextNode(" Only visible to you"));
      main.appendChild(only);
    }
    if (note) main.appendChild(el("div", "message-note", note));
    const head = el("div", "message-head");
    head.appendChild(el("span", "author", author));
    if (isBot && author === BOT_NAME) head.appendChild(el("span", "app-badge", "APP"));
    head.appendChild(el("span", "time", clock()));
    const body = el("div", "message-body");
    main.append(head, body);
    node.append(avatar, main);
    return { node, body, main, channel: CHANNEL, ts: newTs(), isEphemeral: ephemeral, message: null, removed: false };
  }

  function renderMessage(record, message) {
    record.message = message;
    record.body.replaceChildren();
    const ctx = { record };
    const blocks = Array.isArray(message.blocks) ? message.blocks : null;
    if (blocks && blocks.length) {
      renderBlocks(record.body, blocks, ctx);
    } else if (message.text) {
      record.body.appendChild(renderText(el("div", "message-text"), { type: "mrkdwn", text: message.text }));
    }
    if (Array.isArray(message.attachments)) renderAttachments(record.body, message.attachments, ctx);
  }

  function messagesPane() {
    return document.getElementById("messages");
  }

  function scrollToBottom(pane) {
    pane.scrollTop = pane.scrollHeight;
  }

  function appendMain(record) {
    const pane = messagesPane();
    pane.appendChild(record.node);
    scrollToBottom(pane);
  }

  function botReply(message, options = {}) {
    const ephemeral = message.response_type !== "in_channel";
    const record = makeMessage({ ephemeral, ...options });
    renderMessage(record, message);
    appendMain(record);
    return record;
  }

  function errorReply(text) {
    const record = makeMessage({ author: "Slackbot", ephemeral: true, initials: "⚠" });
    record.node.classList.add("error");
    record.body.appendChild(el("div", "message-text", text));
    appendMain(record);
  }

  function flash(node) {
    node.classList.remove("flash");
    void node.offsetWidth; // restart the animation
    node.classList.add("flash");
  }

  // ------------------------------------------------------------------ side panel

  function destination(event) {
    const channel = String(event.channel || "");
    let where;
    if (channel.startsWith("DU")) where = `DM to ${userLabel(channel.slice(1))}`;
    else if (channel.startsWith("D")) where = "DM";
    else if (channel.startsWith("U")) where = `DM to ${userLabel(channel)}`;
    else if (channel) where = `Posted in ${channelLabel(channel)}`;
    else where = "Posted";
    if (event.thread_ts) where += " (in a thread)";
    return where;
  }

  function sideCard(title, kind) {
    const empty = document.getElementById("feed-empty");
    if (empty) empty.remove();
    const card = el("div", `post post-${kind}`);
    const head = el("div", "post-head");
    head.append(el("span", "post-where", title), el("span", "time", clock()));
    card.appendChild(head);
    const feed = document.getElementById("feed");
    feed.appendChild(card);
    feed.scrollTop = feed.scrollHeight;
    return card;
  }

  function sidePost(event, title) {
    const card = sideCard(title, event.kind);
    const record = makeMessage({});
    record.channel = String(event.channel || "");
    record.ts = String(event.ts || newTs());
    record.isEphemeral = event.kind === "ephemeral";
    record.thread_ts = event.thread_ts || "";
    card.appendChild(record.node);
    renderMessage(record, event);
    if (event.ts) state.byTs.set(`${record.channel}:${event.ts}`, record);
    flash(card);
    return record;
  }

  // ------------------------------------------------------------------ events from the server

  function applyEvents(events, next) {
    for (const event of (events || []).slice().sort((a, b) => a.index - b.index)) {
      if (state.applied.has(event.index)) continue;
      state.applied.add(event.index);
      try {
        applyEvent(event);
      } catch (error) {
        console.error("could not show event", event, error);
      }
    }
    if (typeof next === "number" && next > state.next) state.next = next;
  }

  function applyEvent(event) {
    switch (event.kind) {
      case "response":
        return applyResponse(event);
      case "post":
        if (state.uploads.has(`${event.channel}:${event.thread_ts}`)) {
          return botReply({ ...event, response_type: "in_channel" }, { note: "In your DM with the bot" });
        }
        return sidePost(event, destination(event));
      case "ephemeral":
        if (event.channel === CHANNEL && (!event.user || event.user === USER)) {
          return botReply({ ...event, response_type: "ephemeral" });
        }
        return sidePost(event, `Only visible to ${userLabel(event.user)} in ${channelLabel(event.channel)}`);
      case "update": {
        const record = state.byTs.get(`${event.channel}:${event.ts}`);
        if (record && !record.removed) {
          renderMessage(record, event);
          record.main.querySelector(".message-head").appendChild(el("span", "edited", "(edited)"));
          flash(record.node);
          return record;
        }
        return sidePost(event, `Updated a message in ${channelLabel(event.channel)}`);
      }
      case "delete": {
        const record = state.byTs.get(`${event.channel}:${event.ts}`);
        if (record) {
          record.removed = true;
          record.body.replaceChildren(el("div", "deleted", "This message was deleted."));
        }
        return record;
      }
      case "home":
        return showHome(event);
      case "modal":
        return openModal(event.view);
      case "modal_update":
        if (state.modal && event.view && state.modal.view.id === event.view.id) return openModal(event.view);
        return null;
      case "file": {
        let card;
        if (state.uploads.has(`${event.channel}:${event.thread_ts}`)) {
          const record = makeMessage({ note: "In your DM with the bot" });
          appendMain(record);
          card = record.body;
        } else {
          card = sideCard(`${destination(event)}: file upload`, "file");
        }
        if (event.text) card.appendChild(renderText(el("div", "message-text"), { type: "mrkdwn", text: event.text }));
        for (const file of event.files || []) card.appendChild(fileNode(file));
        return card;
      }
      default:
        return null;
    }
  }

  // An image the bot uploaded shows inline; any other file (a list of bad rows) is a download link.
  function fileNode(file) {
    const isImage = !file.name || /\.(png|jpe?g|gif)$/i.test(file.name);
    if (!isImage) {
      const link = el("a", "link file-link", `📄 ${file.title || file.name}`);
      const href = safeUrl(file.url, true);
      if (href) link.href = href;
      link.download = file.name;
      return link;
    }
    const figure = el("figure", "bk-image");
    figure.appendChild(el("figcaption", "bk-image-title", file.title));
    figure.appendChild(imageNode(file.url, file.title));
    return figure;
  }

  function applyResponse(event) {
    const record = state.byResponse.get(event.name);
    const message = { text: event.text, blocks: event.blocks, attachments: event.attachments, response_type: event.response_type };
    if (record && !record.removed && event.delete_original) {
      record.removed = true;
      record.node.remove();
      return record;
    }
    if (event.delete_original) return null;
    if (record && !record.removed && record.node.isConnected && event.replace_original) {
      if (event.response_type === "in_channel") record.isEphemeral = false;
      renderMessage(record, message);
      flash(record.node);
      return record;
    }
    const reply = botReply(message);
    flash(reply.node);
    return reply;
  }

  // ------------------------------------------------------------------ App Home

  function homeVisible() {
    return !document.getElementById("home").hidden;
  }

  function showHome(event) {
    const view = event.view || {};
    if (event.user && event.user !== USER) {
      const card = sideCard(`App Home published for ${userLabel(event.user)}`, "home");
      renderBlocks(card.appendChild(el("div", "home-view")), view.blocks || [], { view });
      return card;
    }
    const pane = document.getElementById("home");
    pane.replaceChildren();
    renderBlocks(pane, view.blocks || [], { view, root: pane });
    if (!homeVisible()) document.getElementById("nav-home").classList.add("unread");
    return pane;
  }

  function switchTo(where) {
    const home = where === "home";
    document.getElementById("home").hidden = !home;
    document.getElementById("home-header").hidden = !home;
    document.getElementById("channel-pane").hidden = home;
    document.getElementById("channel-header").hidden = home;
    document.getElementById("nav-home").classList.toggle("active", home);
    document.getElementById("nav-home").classList.remove("unread");
    document.getElementById("nav-channel").classList.toggle("active", !home);
    if (!home) document.getElementById("command").focus();
  }

  async function openHome() {
    switchTo("home");
    try {
      const result = await api("/playground/api/home", {});
      applyEvents(result.events, result.next);
      if (!(result.events || []).some((e) => e.kind === "home")) {
        const pane = document.getElementById("home");
        if (!pane.querySelector(".blocks")) {
          pane.replaceChildren(el("p", "feed-empty", "The app published no Home tab."));
        }
      }
    } catch (error) {
      document.getElementById("home").replaceChildren(el("p", "feed-empty", error.message));
    }
  }

  // ------------------------------------------------------------------ talking to the server

  async function api(path, body) {
    const options = body === undefined
      ? { method: "GET" }
      : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    let response;
    try {
      response = await fetch(path, options);
    } catch (_error) {
      setBanner("The playground server is not answering. Is `healthbot serve` still running?");
      throw new Error("The playground server is not answering.");
    }
    setBanner(null);
    let data = null;
    try {
      data = await response.json();
    } catch (_error) {
      data = null;
    }
    if (!response.ok) throw new Error((data && data.error) || `HTTP ${response.status}`);
    return data;
  }

  function setBanner(text) {
    const banner = document.getElementById("banner");
    banner.hidden = !text;
    banner.textContent = text || "";
  }

  async function sendAction(ctx, block, action, { quiet = false } = {}) {
    const body = { ...action, block_id: block && block.block_id ? String(block.block_id) : undefined };
    let busy = null;
    if (ctx.view) {
      body.view = ctx.view;
      if (ctx.root) body.values = readState(ctx.root, ctx.view.blocks);
    } else if (ctx.record) {
      const record = ctx.record;
      const name = uniqueName("act");
      state.byResponse.set(name, record);
      body.response_name = name;
      body.message = {
        ts: record.ts,
        channel: record.channel,
        is_ephemeral: record.isEphemeral,
        text: record.message ? record.message.text : "",
        blocks: record.message ? record.message.blocks : [],
        thread_ts: record.thread_ts || undefined,
      };
      if (!quiet) {
        busy = record.node;
        busy.classList.add("busy");
      }
    }
    try {
      const result = await api("/playground/api/action", body);
      applyEvents(result.events, result.next);
    } catch (error) {
      errorReply(error.message);
    } finally {
      if (busy) busy.classList.remove("busy");
    }
  }

  async function runCommand(text) {
    const trimmed = text.trim();
    if (!trimmed) return;
    const echo = makeMessage({ author: "You", isBot: false });
    echo.node.classList.add("command-echo");
    echo.body.appendChild(el("code", "command-text", trimmed));
    appendMain(echo);

    const record = makeMessage({ ephemeral: true });
    record.body.appendChild(el("div", "typing", "…"));
    appendMain(record);
    const name = uniqueName("cmd");
    state.byResponse.set(name, record);
    try {
      const result = await api("/playground/api/command", { text: trimmed, response_name: name });
      if (result.message) {
        record.isEphemeral = result.message.response_type !== "in_channel";
        renderMessage(record, result.message);
        scrollToBottom(messagesPane());
      } else {
        record.removed = true;
        record.node.remove();
      }
      applyEvents(result.events, result.next);
    } catch (error) {
      record.removed = true;
      record.node.remove();
      errorReply(error.message);
    }
  }

  // No scheduler runs in the playground: this posts the digests that are due now, through the bot's
  // own digest job, and says per subscribed channel what happened.
  async function runDigests() {
    const button = document.getElementById("run-digests");
    button.disabled = true;
    try {
      const result = await api("/playground/api/digests", {});
      applyEvents(result.events, result.next);
      const card = sideCard("Run due digests", "digests");
      const list = el("ul", "digest-summary");
      for (const line of result.summary || []) {
        list.appendChild(renderText(el("li", "digest-line"), { type: "mrkdwn", text: line }));
      }
      card.appendChild(list);
      flash(card);
    } catch (error) {
      errorReply(error.message);
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------------------------ files dropped in

  function toBase64(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }

  // Files dropped on the page go to the bot as if dropped into its DM in Slack; it answers in the
  // upload's thread, shown here.
  async function uploadFiles(fileList) {
    const files = [...(fileList || [])];
    if (!files.length) return;
    const echo = makeMessage({ author: "You", isBot: false });
    echo.node.classList.add("upload-echo");
    for (const file of files) echo.body.appendChild(el("div", "upload-file", `📎 ${file.name}`));
    appendMain(echo);
    const waiting = makeMessage({});
    waiting.body.appendChild(el("div", "typing", "…"));
    appendMain(waiting);
    state.uploading = true;
    try {
      const payload = await Promise.all(
        files.map(async (file) => ({ name: file.name, content: toBase64(await file.arrayBuffer()) })),
      );
      const result = await api("/playground/api/upload", { files: payload });
      state.uploads.add(`${result.channel}:${result.ts}`);
      waiting.node.remove();
      applyEvents(result.events, result.next);
    } catch (error) {
      waiting.node.remove();
      errorReply(error.message);
    } finally {
      state.uploading = false;
    }
  }

  function watchDrops() {
    const pane = document.getElementById("channel-pane");
    const hint = document.getElementById("drop-hint");
    const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
    pane.addEventListener("dragover", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      hint.hidden = false;
    });
    pane.addEventListener("dragleave", (event) => {
      if (event.target === pane || event.target === hint) hint.hidden = true;
    });
    pane.addEventListener("drop", (event) => {
      event.preventDefault();
      hint.hidden = true;
      uploadFiles(event.dataTransfer?.files);
    });
    const input = document.getElementById("upload-input");
    input.addEventListener("change", () => {
      uploadFiles(input.files);
      input.value = "";
    });
  }

  async function poll() {
    if (state.uploading) {
      // The upload's answer carries its replies; polling now would show them before their thread is known.
      state.pollTimer = window.setTimeout(poll, POLL_MS);
      return;
    }
    try {
      const result = await api(`/playground/api/feed?since=${state.next}`);
      applyEvents(result.events, result.next);
    } catch (_error) {
      // The banner says the server is gone; keep polling so the page recovers when it is back.
    }
    state.pollTimer = window.setTimeout(poll, POLL_MS);
  }

  // ------------------------------------------------------------------ dialogs and modals

  function overlay() {
    return document.getElementById("overlay");
  }

  function dialogFrame(titleText) {
    const root = overlay();
    root.replaceChildren();
    root.hidden = false;
    const dialog = el("div", "dialog");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    const head = el("div", "dialog-head");
    const title = el("h2", "dialog-title");
    renderText(title, titleText);
    const close = el("button", "dialog-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close");
    head.append(title, close);
    const body = el("div", "dialog-body");
    const foot = el("div", "dialog-foot");
    dialog.append(head, body, foot);
    root.appendChild(dialog);
    return { root, dialog, body, foot, close };
  }

  function closeOverlay() {
    const root = overlay();
    root.hidden = true;
    root.replaceChildren();
    state.modal = null;
    const pending = state.confirmResolve;
    state.confirmResolve = null;
    if (pending) pending(false);
  }

  function confirmDialog(confirm) {
    return new Promise((resolve) => {
      const frame = dialogFrame(confirm.title || { type: "plain_text", text: "Are you sure?" });
      frame.body.appendChild(renderText(el("div"), confirm.text));
      const deny = el("button", "bk-button");
      deny.type = "button";
      renderText(deny, confirm.deny || { type: "plain_text", text: "Cancel" });
      const ok = el("button", `bk-button ${confirm.style === "danger" ? "danger-solid" : "primary"}`);
      ok.type = "button";
      renderText(ok, confirm.confirm || { type: "plain_text", text: "Yes" });
      frame.foot.append(deny, ok);
      state.confirmResolve = resolve;
      const done = (answer) => {
        state.confirmResolve = null;
        closeOverlay();
        resolve(answer);
      };
      deny.addEventListener("click", () => done(false));
      frame.close.addEventListener("click", () => done(false));
      ok.addEventListener("click", () => done(true));
      ok.focus();
    });
  }

  function openModal(view) {
    if (!view || typeof view !== "object") return null;
    const frame = dialogFrame(view.title || { type: "plain_text", text: "Modal" });
    const ctx = { view, root: frame.body };
    state.modal = { view, frame };
    renderBlocks(frame.body, view.blocks || [], ctx);
    frame.close.addEventListener("click", closeOverlay);
    const cancel = el("button", "bk-button");
    cancel.type = "button";
    renderText(cancel, view.close || { type: "plain_text", text: "Cancel" });
    cancel.addEventListener("click", closeOverlay);
    frame.foot.appendChild(cancel);
    if (view.submit) {
      const submit = el("button", "bk-button primary");
      submit.type = "button";
      renderText(submit, view.submit);
      submit.addEventListener("click", () => submitModal(view, frame.body, submit));
      frame.foot.appendChild(submit);
    }
    return state.modal;
  }

  async function submitModal(view, root, button) {
    for (const error of root.querySelectorAll(".bk-error")) error.textContent = "";
    button.disabled = true;
    try {
      const result = await api("/playground/api/view", { view, values: readState(root, view.blocks) });
      const ack = result.ack || {};
      if (ack.response_action === "errors" && ack.errors) {
        for (const [blockId, message] of Object.entries(ack.errors)) {
          const block = [...root.querySelectorAll(".bk-input")].find(
            (node) => node.querySelector(`[data-input-block]`)?.dataset.inputBlock === blockId,
          );
          const slot = block ? block.querySelector(".bk-error") : null;
          if (slot) slot.textContent = String(message);
        }
      } else if ((ack.response_action === "update" || ack.response_action === "push") && ack.view) {
        openModal({ ...ack.view, id: view.id });
      } else {
        closeOverlay();
      }
      applyEvents(result.events, result.next);
    } catch (error) {
      closeOverlay();
      errorReply(error.message);
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------------------------ start

  function start() {
    const form = document.getElementById("composer");
    const input = document.getElementById("command");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value;
      if (!text.trim()) return;
      state.history.push(text);
      state.historyAt = state.history.length;
      input.value = "";
      runCommand(text);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowUp" && state.historyAt > 0) {
        state.historyAt -= 1;
        input.value = state.history[state.historyAt];
        event.preventDefault();
      } else if (event.key === "ArrowDown" && state.historyAt < state.history.length) {
        state.historyAt += 1;
        input.value = state.history[state.historyAt] || "";
        event.preventDefault();
      }
    });
    for (const example of document.querySelectorAll(".example")) {
      example.addEventListener("click", () => {
        input.value = example.dataset.command || "";
        input.focus();
      });
    }
    document.addEventListener("click", closeMenus);
    watchDrops();
    document.getElementById("nav-home").addEventListener("click", openHome);
    document.getElementById("run-digests").addEventListener("click", runDigests);
    api("/playground/api/workspace")
      .then((result) => {
        state.channels = result.channels || {};
        state.people = result.people || {};
      })
      .catch(() => {});
    document.getElementById("nav-channel").addEventListener("click", () => switchTo("channel"));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        closeMenus();
        if (!overlay().hidden) closeOverlay();
      }
    });
    // Skip what was posted before this page was opened; the page starts empty, like a new session.
    api("/playground/api/feed?since=end")
      .then((result) => {
        state.next = result.next;
      })
      .catch(() => {})
      .finally(() => {
        state.pollTimer = window.setTimeout(poll, POLL_MS);
      });
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
