package dev.portcullis.forward;

import java.util.Arrays;

/**
 * A compact set of domain keys for {@link DomainRules}, sized for lists of millions of names: the
 * keys' ASCII bytes in one array, an open-addressing table of entry numbers, and per entry its
 * forms and a tag (the line it came from). About 40 bytes per name of ~20 characters, against
 * some 150 for a {@code HashMap<String, ...>}.
 *
 * <p>A lookup walks the name's label boundaries (the full name, then each parent domain), so it
 * costs one table probe per label: no regex, no scan of the list.
 *
 * <p>Built once by a single thread, then immutable and safe to share.
 */
final class NameSet {

    /** The entry matches the key itself. */
    static final byte EXACT = 1;
    /** The entry matches names under the key (not the key). */
    static final byte SUBDOMAINS = 2;

    private final byte[] data;
    private final int[] starts;   // entry i's key is data[starts[i] .. starts[i + 1])
    private final byte[] forms;
    private final int[] tags;
    private final int[] slots;    // entry index + 1; 0 is empty
    private final int size;

    private NameSet(byte[] data, int[] starts, byte[] forms, int[] tags, int[] slots, int size) {
        this.data = data;
        this.starts = starts;
        this.forms = forms;
        this.tags = tags;
        this.slots = slots;
        this.size = size;
    }

    int size() {
        return size;
    }

    /** Bytes held, for logs ("loaded 1000000 names, 38 MiB"). */
    long footprintBytes() {
        return data.length + 4L * starts.length + forms.length + 4L * tags.length + 4L * slots.length;
    }

    /**
     * The tag of the most specific entry that matches {@code name} (a lower-case ASCII name
     * without trailing dot): an EXACT entry for the name itself, else the SUBDOMAINS entry of the
     * nearest parent. -1 when none does.
     */
    int match(String name) {
        if (size == 0 || name.isEmpty()) {
            return -1;
        }
        int n = name.length();
        int labels = 1;
        for (int i = 0; i < n; i++) {
            if (name.charAt(i) == '.') {
                labels++;
            }
        }
        // One pass from the right gives every suffix's hash; suffixes are then tried from the longest.
        int[] hashAt = new int[labels];
        int[] startAt = new int[labels];
        int h = 0;
        int k = labels;
        for (int i = n - 1; i >= 0; i--) {
            h = h * 31 + name.charAt(i);
            if (i == 0 || name.charAt(i - 1) == '.') {
                k--;
                hashAt[k] = h;
                startAt[k] = i;
            }
        }
        for (int j = 0; j < labels; j++) {
            int tag = find(name, startAt[j], hashAt[j], j == 0 ? EXACT : SUBDOMAINS);
            if (tag >= 0) {
                return tag;
            }
        }
        return -1;
    }

    private int find(String name, int from, int hash, byte need) {
        int mask = slots.length - 1;
        for (int s = mix(hash) & mask; ; s = (s + 1) & mask) {
            int e = slots[s] - 1;
            if (e < 0) {
                return -1;
            }
            if ((forms[e] & need) != 0 && keyEquals(e, name, from)) {
                return tags[e];
            }
        }
    }

    private boolean keyEquals(int e, String name, int from) {
        int start = starts[e];
        int len = starts[e + 1] - start;
        if (len != name.length() - from) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (data[start + i] != name.charAt(from + i)) {
                return false;
            }
        }
        return true;
    }

    private static int mix(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** Same hash as {@link #match}'s walk, over a stored key. */
    private static int hash(byte[] data, int start, int end) {
        int h = 0;
        for (int i = end - 1; i >= start; i--) {
            h = h * 31 + data[i];
        }
        return h;
    }

    static final class Builder {
        private byte[] data = new byte[1024];
        private int dataLength;
        private int[] starts = new int[65];
        private byte[] forms = new byte[64];
        private int[] tags = new int[64];
        private int[] slots = new int[128];
        private int size;

        int size() {
            return size;
        }

        /**
         * Adds {@code key} (lower-case ASCII, validated by the caller) with its forms and tag.
         * Returns false when an earlier entry already covers it in the same forms (the earlier tag
         * is kept, so a duplicate reports the first line).
         */
        boolean add(String key, byte entryForms, int tag) {
            int len = key.length();
            ensureData(len);
            for (int i = 0; i < len; i++) {
                data[dataLength + i] = (byte) key.charAt(i);
            }
            int h = hash(data, dataLength, dataLength + len);
            int mask = slots.length - 1;
            int s = mix(h) & mask;
            byte seen = 0;
            for (; slots[s] != 0; s = (s + 1) & mask) {
                int e = slots[s] - 1;
                if (sameKey(e, dataLength, len)) {
                    seen |= forms[e];
                }
            }
            if ((entryForms & ~seen) == 0) {
                return false;
            }
            if (size + 1 >= forms.length) {
                int cap = forms.length * 2;
                forms = Arrays.copyOf(forms, cap);
                tags = Arrays.copyOf(tags, cap);
                starts = Arrays.copyOf(starts, cap + 1);
            }
            starts[size] = dataLength;
            forms[size] = (byte) (entryForms & ~seen);
            tags[size] = tag;
            dataLength += len;
            starts[size + 1] = dataLength;
            slots[s] = size + 1;
            size++;
            if (size * 2 > slots.length) {
                rehash(slots.length * 2);
            }
            return true;
        }

        private boolean sameKey(int e, int at, int len) {
            int start = starts[e];
            if (starts[e + 1] - start != len) {
                return false;
            }
            return Arrays.equals(data, start, start + len, data, at, at + len);
        }

        private void ensureData(int len) {
            if (dataLength + len > data.length) {
                data = Arrays.copyOf(data, Math.max(data.length * 2, dataLength + len));
            }
        }

        private void rehash(int capacity) {
            int[] table = new int[capacity];
            int mask = capacity - 1;
            for (int e = 0; e < size; e++) {
                int s = mix(hash(data, starts[e], starts[e + 1])) & mask;
                while (table[s] != 0) {
                    s = (s + 1) & mask;
                }
                table[s] = e + 1;
            }
            slots = table;
        }

        NameSet build() {
            return new NameSet(
                    Arrays.copyOf(data, dataLength),
                    Arrays.copyOf(starts, size + 1),
                    Arrays.copyOf(forms, size),
                    Arrays.copyOf(tags, size),
                    slots,
                    size);
        }
    }
}
