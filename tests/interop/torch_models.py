"""The torch models issue 24's tests convert (tests/interop/test_models.py): each with a custom forward, so
``from_torch`` captures it with torch.export. Small sizes: the float64 and float32 parity cases run in CI."""
import torch
from torch import nn as tnn
from torch.nn import functional as tF

VOCAB, SEQ = 20, 7


class LSTMClassifier(tnn.Module):
    """Embedding, a bidirectional 2-layer LSTM (batch first), the last step, a Linear head."""

    def __init__(self, dim=6, hidden=5, classes=3):
        super().__init__()
        self.emb = tnn.Embedding(VOCAB, dim)
        self.lstm = tnn.LSTM(dim, hidden, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = tnn.Linear(2 * hidden, classes)

    def forward(self, tokens):
        h, _ = self.lstm(self.emb(tokens))
        return self.fc(h[:, -1])


class TransformerClassifier(tnn.Module):
    """Token and learned position embeddings, a 2-layer nn.TransformerEncoder with a key padding mask (True:
    padding), the mean over the kept positions, a Linear head."""

    def __init__(self, dim=8, heads=2, classes=3):
        super().__init__()
        self.emb = tnn.Embedding(VOCAB, dim)
        self.pos = tnn.Parameter(0.1 * torch.randn(1, SEQ, dim))
        layer = tnn.TransformerEncoderLayer(dim, heads, 16, dropout=0.0, batch_first=True)
        self.encoder = tnn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.fc = tnn.Linear(dim, classes)

    def forward(self, tokens, padding):
        h = self.encoder(self.emb(tokens) + self.pos, src_key_padding_mask=padding)
        keep = (~padding).unsqueeze(-1).to(h.dtype)
        return self.fc((h * keep).sum(1) / keep.sum(1))


def _double_conv(cin, cout):
    return tnn.Sequential(tnn.Conv2d(cin, cout, 3, padding=1), tnn.BatchNorm2d(cout), tnn.ReLU(),
                          tnn.Conv2d(cout, cout, 3, padding=1), tnn.ReLU())


class UNet(tnn.Module):
    """Two levels down by max pooling, up by F.interpolate (bilinear), torch.cat skips, a 1x1 head."""

    def __init__(self, c=3):
        super().__init__()
        self.down1, self.down2 = _double_conv(1, c), _double_conv(c, 2 * c)
        self.bottom = _double_conv(2 * c, 2 * c)
        self.up2, self.up1 = _double_conv(4 * c, c), _double_conv(2 * c, c)
        self.head = tnn.Conv2d(c, 2, 1)

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(tF.max_pool2d(d1, 2))
        b = self.bottom(tF.max_pool2d(d2, 2))
        u2 = self.up2(torch.cat([tF.interpolate(b, scale_factor=2, mode="bilinear", align_corners=False), d2], 1))
        u1 = self.up1(torch.cat([tF.interpolate(u2, size=d1.shape[-2:], mode="nearest"), d1], 1))
        return self.head(u1)


class WeightedLoss(tnn.Module):
    """A model whose forward returns its loss: nn.CrossEntropyLoss(weight=...) keeps the class weights as a
    buffer (state_dict 'loss.weight')."""

    def __init__(self, classes=3):
        super().__init__()
        self.fc = tnn.Linear(4, classes)
        self.loss = tnn.CrossEntropyLoss(weight=torch.tensor([0.2, 1.0, 3.0]), label_smoothing=0.1)

    def forward(self, x, target):
        return self.loss(self.fc(x), target)


class TiedLM(tnn.Module):
    """An output layer sharing the embedding's weight (``head.weight`` is ``emb.weight``), as GPT-2's lm_head."""

    def __init__(self, dim=6):
        super().__init__()
        self.emb = tnn.Embedding(VOCAB, dim)
        self.mix = tnn.Linear(dim, dim)
        self.head = tnn.Linear(dim, VOCAB, bias=False)
        self.head.weight = self.emb.weight

    def forward(self, tokens):
        return self.head(torch.tanh(self.mix(self.emb(tokens))))


class Recurrent(tnn.Module):
    """The other recurrent layers export maps (aten.gru / rnn_relu / rnn_tanh .input, and an LSTM with a
    projection): time-major input, given initial states, every final state used."""

    def __init__(self, dim=4, hidden=5):
        super().__init__()
        self.gru = tnn.GRU(dim, hidden)
        self.relu_rnn = tnn.RNN(hidden, hidden, nonlinearity="relu", bias=False)
        self.tanh_rnn = tnn.RNN(hidden, hidden, num_layers=2, bidirectional=True)
        self.lstm = tnn.LSTM(2 * hidden, hidden, proj_size=3)

    def forward(self, x, h0):
        y, h = self.gru(x, h0)
        y, h2 = self.relu_rnn(y, h)
        y, h3 = self.tanh_rnn(y)
        y, (h4, c4) = self.lstm(y)
        return y.sum(0) + h.sum() + h2.sum() + h3.sum() + h4.sum() + c4.sum()
