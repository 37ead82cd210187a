namespace TaskSystem.Server.Http;

/// <summary>
/// The reference page's configuration module (Scalar imports it and merges its default export): every request the
/// page makes, the document's and "Send"'s alike, carries the API key the dashboard keeps for this tab
/// (sessionStorage, so a key given to either works for both); on a 401 the page asks for a key, keeps it and tries
/// again. A key typed into the reference's own Authentication box wins.
/// </summary>
internal static class ApiReferenceKeyScript
{
    public const string FileName = "api-key.js";

    public const string Source = """
        const KEY_STORAGE = 'tasksystem.apiKey';

        function storedKey() {
          try { return sessionStorage.getItem(KEY_STORAGE); } catch { return null; }
        }

        function keepKey(key) {
          try { sessionStorage.setItem(KEY_STORAGE, key); } catch { /* storage blocked: asked again next time */ }
        }

        function send(input, init, key) {
          const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
          if (key && !headers.has('Authorization')) headers.set('Authorization', `Bearer ${key}`);
          return fetch(input, { ...init, headers });
        }

        export default {
          customFetch: async (input, init) => {
            const response = await send(input, init, storedKey());
            if (response.status !== 401) return response;
            const key = window.prompt('This server needs an API key (one of TaskSystem:ApiKeys):')?.trim();
            if (!key) return response;
            keepKey(key);
            return send(input, init, key);
          },
          authentication: {
            preferredSecurityScheme: 'ApiKey',
            securitySchemes: { ApiKey: { token: storedKey() ?? '' } },
          },
        };
        """;
}
