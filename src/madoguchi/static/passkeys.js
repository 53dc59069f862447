/* Passkeys: adding one on /account/passkeys and signing in with one on /sign-in.
 *
 * The server sends WebAuthn options as JSON with base64url bytes; the browser's API wants
 * ArrayBuffers, and its answer goes back as JSON with base64url again. Every post carries the
 * session's form token in X-CSRF-Token. Messages come from data-message-* attributes of the
 * section, written by the server in the page's language.
 */
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    options.excludeCredentials = withIds(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.allowCredentials = withIds(json.allowCredentials);
    return options;
  }

  function registrationJSON(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        attestationObject: toText(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : []
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || null
    };
  }

  function assertionJSON(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        authenticatorData: toText(response.authenticatorData),
        signature: toText(response.signature),
        userHandle: response.userHandle ? toText(response.userHandle) : null
      },
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || null
    };
  }

  /* A refusal from the server: its problem+json detail is the message to show. */
  function Refused(detail, location) {
    this.detail = detail;
    this.location = location;
  }

  function post(section, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": section.dataset.csrfToken
      },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Refused(data.detail || section.dataset.messageFailed, data.location);
        return data;
      });
    });
  }

  function showError(section, message) {
    var box = section.querySelector("[data-passkey-error]");
    box.querySelector("[data-passkey-error-text]").textContent = message;
    box.hidden = false;
    box.focus();
  }

  function messageFor(section, error) {
    if (error instanceof Refused) return error.detail;
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "AbortError") return section.dataset.messageCancelled;
    if (name === "SecurityError") return section.dataset.messageSecurity;
    if (name === "InvalidStateError" && section.dataset.messageExists) return section.dataset.messageExists;
    return section.dataset.messageFailed;
  }

  function handleFailure(section, button, error) {
    if (error instanceof Refused && error.location) {
      window.location.assign(error.location);
      return;
    }
    button.disabled = false;
    showError(section, messageFor(section, error));
  }

  function ready(section, button) {
    var noScript = section.querySelector("[data-passkey-no-js]");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      noScript.textContent = section.dataset.messageUnsupported;
      return false;
    }
    noScript.hidden = true;
    button.hidden = false;
    return true;
  }

  function setUpSignIn(section) {
    var button = section.querySelector("[data-passkey-sign-in-button]");
    if (!ready(section, button)) return;
    button.addEventListener("click", function () {
      button.disabled = true;
      post(section, "/sign-in/passkey/options")
        .then(function (options) {
          return navigator.credentials.get({ publicKey: requestOptions(options) });
        })
        .then(function (credential) {
          return post(section, "/sign-in/passkey", {
            credential: assertionJSON(credential),
            next: section.dataset.next
          });
        })
        .then(function (answer) { window.location.assign(answer.location); })
        .catch(function (error) { handleFailure(section, button, error); });
    });
  }

  function setUpAdding(section) {
    var button = section.querySelector("[data-passkey-add-button]");
    if (!ready(section, button)) return;
    button.addEventListener("click", function () {
      button.disabled = true;
      post(section, "/account/passkeys/options")
        .then(function (options) {
          return navigator.credentials.create({ publicKey: creationOptions(options) });
        })
        .then(function (credential) {
          return post(section, "/account/passkeys", {
            credential: registrationJSON(credential),
            name: section.querySelector("#passkey-name").value
          });
        })
        .then(function (answer) { window.location.assign(answer.location); })
        .catch(function (error) { handleFailure(section, button, error); });
    });
  }

  function start() {
    document.querySelectorAll("[data-passkey-sign-in]").forEach(setUpSignIn);
    document.querySelectorAll("[data-passkey-add]").forEach(setUpAdding);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
